//! The SLURM helpers of the tests that run against a real cluster
//! (tests/cluster.rs): whether one answers, waiting for jobs, and
//! `mlpsweep slurm --submit` with the job ids it prints.

use std::path::Path;
use std::process::{Command, Output};
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::{arg, run_ok, stderr, stdout};

/// Whether a SLURM controller answers with an idle node.
pub fn slurm_available() -> Result<(), String> {
    let o = Command::new("sinfo")
        .args(["-h", "-o", "%t"])
        .output()
        .map_err(|e| format!("sinfo not found ({e})"))?;
    let states = stdout(&o);
    if !o.status.success()
        || !states
            .lines()
            .any(|l| l.starts_with("idle") || l.starts_with("mix"))
    {
        return Err(format!(
            "no idle SLURM node (sinfo: {} {})",
            states.trim(),
            stderr(&o).trim()
        ));
    }
    Ok(())
}

pub fn job_done(id: &str) -> bool {
    let o = Command::new("squeue")
        .args(["-h", "-j", id])
        .output()
        .unwrap();
    stdout(&o).trim().is_empty()
}

pub fn wait_job(id: &str) {
    let t0 = Instant::now();
    while !job_done(id) {
        assert!(
            t0.elapsed() < Duration::from_secs(600),
            "job {id} still queued after 10 minutes"
        );
        sleep(Duration::from_millis(500));
    }
}

/// `mlpsweep slurm STUDY --shards 3 … --out OUT --submit`: its output.
pub fn slurm_submit(study: &str, out: &Path) -> Output {
    run_ok(&[
        "slurm",
        study,
        "--shards",
        "3",
        "--cpus-per-task",
        "1",
        "--time",
        "00:10:00",
        "--out",
        arg(out),
        "--submit",
    ])
}

/// The job ids on the "submitted array job A … B" line of `text`: the
/// array's and the job depending on it (merge or promote).
pub fn submitted_jobs(text: &str) -> (String, String) {
    let line = text
        .lines()
        .find(|l| l.starts_with("submitted array job"))
        .unwrap_or_else(|| panic!("{text}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    (words[3].to_string(), words[7].to_string())
}

/// Submit `study` as a 3-shard array plus its merge job, writing to `out`;
/// returns the two job ids.
pub fn submit(study: &str, out: &Path) -> (String, String) {
    submitted_jobs(&stdout(&slurm_submit(study, out)))
}

/// Set (to 1) by `.ci/run` once it has started its SLURM cluster: then a
/// cluster that does not answer fails the SLURM test instead of skipping it.
pub const REQUIRE_SLURM: &str = "MLPSWEEP_REQUIRE_SLURM";

/// Whether a SLURM cluster answers; if not, say that `test` is skipped,
/// or fail under `MLPSWEEP_REQUIRE_SLURM=1`.
pub fn cluster_answers(test: &str) -> bool {
    if let Err(why) = slurm_available() {
        assert!(
            std::env::var(REQUIRE_SLURM).as_deref() != Ok("1"),
            "{REQUIRE_SLURM}=1 but no SLURM cluster answers: {why}"
        );
        println!("SKIPPED {test}: {why}; start one with scripts/slurm-local.sh");
        return false;
    }
    true
}

/// Wait until no job named in `names` (comma-separated) is queued or
/// running: a promote job submits the next rung before it ends, so an
/// empty queue means the chain has ended.
pub fn wait_names(names: &str) {
    let t0 = Instant::now();
    loop {
        let o = Command::new("squeue")
            .args(["-h", "-n", names, "-o", "%i"])
            .output()
            .unwrap();
        if o.status.success() && stdout(&o).trim().is_empty() {
            return;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(300),
            "jobs {names} still queued after 5 minutes: {}",
            stdout(&o)
        );
        sleep(Duration::from_millis(500));
    }
}
