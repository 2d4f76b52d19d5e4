#!/usr/bin/env bash
# A single-node SLURM cluster on localhost, for the SLURM integration test.
#   scripts/slurm-local.sh start   install (Debian packages), configure, start, wait for the node
#   scripts/slurm-local.sh stop    stop the daemons this script started
# Needs root (as CI and the development machines run). Debian 12 ships SLURM 22.05.
# start exits non-zero when the node does not come up; .ci/run then fails.
set -euo pipefail
state=/tmp/mlpsweep-slurm
cmd=${1:-start}

stop() {
    local pids=()
    for pidfile in "$state"/slurmd.pid "$state"/slurmctld.pid "$state"/munged.pid; do
        [ -f "$pidfile" ] || continue
        for pid in $(cat "$pidfile"); do
            pids+=("$pid")
            kill "$pid" 2>/dev/null || true
        done
    done
    rm -f "$state"/*.pid
    # Wait until they are gone: a start right after (a second CI run on the
    # same machine) would otherwise find a slurmctld still saving its state,
    # take it for a running one, and wait for a controller that never answers.
    for _ in $(seq 1 50); do
        local alive=0
        for pid in "${pids[@]}"; do
            kill -0 "$pid" 2>/dev/null && alive=1
        done
        [ "$alive" = 0 ] && return 0
        sleep 0.2
    done
}

if [ "$cmd" = stop ]; then
    stop
    exit 0
fi

installed=0
if ! command -v slurmctld >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq slurmctld slurmd slurm-client munge >/dev/null
    installed=1
fi

mkdir -p "$state" /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge /var/lib/munge /var/log/munge /etc/munge
# munge: a key, owned by the munge user, daemon started as that user.
if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
fi
chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
chmod 0700 /etc/munge /var/lib/munge /var/log/munge
chmod 0755 /run/munge
chmod 0400 /etc/munge/munge.key
# The newest munged: the daemon, not its parent (a zombie until init reaps it).
if ! pgrep -x munged >/dev/null; then
    runuser -u munge -- /usr/sbin/munged
    sleep 0.5
    pgrep -n -x munged > "$state/munged.pid"
elif [ "$installed" = 1 ]; then
    # The munge package started it while installing: stop it with the rest.
    pgrep -n -x munged > "$state/munged.pid"
fi

host=$(hostname -s)
cpus=$(nproc)
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=mlpsweep-test
SlurmctldHost=$host
SlurmUser=root
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF

pgrep -x slurmctld >/dev/null || /usr/sbin/slurmctld
pgrep -x slurmd >/dev/null || /usr/sbin/slurmd

# Wait for the node to be idle: at most about a minute, even when the
# controller does not answer (each sinfo call is cut off after 5 s).
deadline=$((SECONDS + 60))
while [ "$SECONDS" -lt "$deadline" ]; do
    if timeout 5 sinfo -h -o '%t' 2>/dev/null | grep -qE '^(idle|mix)'; then
        echo "slurm-local: node $host idle ($cpus CPUs, ${mem} MB)"
        exit 0
    fi
    timeout 5 scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true
    sleep 1
done
echo "slurm-local: the node did not become idle" >&2
timeout 5 sinfo >&2 || true
tail -n 20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
exit 1
