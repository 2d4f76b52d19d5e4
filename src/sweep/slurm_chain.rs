//! `slurm` for a study whose next trials depend on its results: a halving
//! study (rungs) or a `[settle]` study (rounds of seeds). The step next by
//! the records of the results folder gets its array and follow-up scripts
//! (submitted with `--submit`); the follow-up job runs this again with
//! `--after-rung K` or `--after-round K` once it has merged step K's
//! shards. One driver serves both ([`Phase`]); see `cluster::chain`.

use std::io::Write;

use anyhow::{Result, bail};

use super::{Exit, SlurmArgs, read_text};
use crate::cluster::SlurmOptions;
use crate::cluster::chain::{Kind, Step, Submitted, rung_step, slurm_args, write_and_submit};
use crate::data::Datasets;
use crate::plan::Plan;
use crate::store::ResultsDir;
use crate::study;

/// A study run as a chain of arrays: from the stored records, where it
/// stands and the step that comes next, or `None` once it is done.
trait Phase {
    /// Rung or round.
    fn kind(&self) -> Kind;
    /// One line on where the records of `dir` stand, and the next step.
    fn next(&self, dir: &ResultsDir) -> Result<(String, Option<Step>)>;
}

/// Successive halving: the next rung and the configurations in it
/// (`crate::halving::rungs`).
struct Halving<'a> {
    exp: &'a study::Study,
    plan: &'a Plan,
}

impl Phase for Halving<'_> {
    fn kind(&self) -> Kind {
        Kind::Rung
    }

    fn next(&self, dir: &ResultsDir) -> Result<(String, Option<Step>)> {
        let history = dir.read_history()?;
        let standing = crate::halving::standing(self.exp, self.plan, &history).unwrap_or_default();
        let next = crate::halving::rungs(self.exp, self.plan, &history).and_then(|r| r.next);
        let step = next.map(|(k, budget, configs)| rung_step(self.plan, k, budget, &configs));
        Ok((standing, step))
    }
}

/// `[settle]`: the claims judged look by look on the stored records
/// (`report::settle::walk`, as a local run does), and the round of seeds
/// the first look without results needs (`crate::settle::round_trials`).
struct Settle<'a> {
    exp: &'a study::Study,
    plan: &'a Plan,
    datasets: Datasets,
}

impl Phase for Settle<'_> {
    fn kind(&self) -> Kind {
        Kind::Round
    }

    fn next(&self, dir: &ResultsDir) -> Result<(String, Option<Step>)> {
        let records = dir.read_records()?;
        let Some(settled) =
            crate::report::settle::walk(self.exp, self.plan, &records, Some(&self.datasets))
        else {
            bail!("internal: a settle chain of a study without [settle]");
        };
        let p = &settled.progress;
        let (spent, uniform) = p.trials();
        let open = p.slices.iter().filter(|s| !s.state.closed()).count();
        let looks = p.looks.len() - 1;
        let Some((k, trials)) = crate::settle::round_trials(self.plan, p) else {
            let standing = format!(
                "settle: every slice settled, futile or at the cap after look {} of {looks} \
                 ({spent} trials, {uniform} with the same seeds for every configuration)",
                p.judged.saturating_sub(1)
            );
            return Ok((standing, None));
        };
        let standing = match k {
            0 => "settle: no look judged yet".to_string(),
            _ => format!(
                "settle: look {} of {looks} judged, {open} slice(s) open, {} trials stored",
                k - 1,
                records.len()
            ),
        };
        let seeds = p.looks[k];
        let served = trials
            .iter()
            .map(|t| t.config_index)
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        let ids: Vec<String> = trials.iter().map(|t| t.id.clone()).collect();
        let step = Step {
            kind: Kind::Round,
            index: k,
            about: format!(
                "look {k} of {looks}: {served} configurations to {seeds} seeds, {} trials",
                ids.len()
            ),
            key: format!("look {k}"),
            trials: ids,
        };
        Ok((standing, Some(step)))
    }
}

/// Write (and with `--submit`, submit) the next step's scripts, or say
/// why there is nothing to submit.
pub(super) fn slurm_chain(
    args: &SlurmArgs,
    exp: &study::Study,
    (plan, datasets): (&Plan, Datasets),
    opts: &SlurmOptions,
    stdout: &mut dyn Write,
) -> Result<Exit> {
    let phase: Box<dyn Phase> = if exp.halving.is_some() {
        Box::new(Halving { exp, plan })
    } else {
        Box::new(Settle {
            exp,
            plan,
            datasets,
        })
    };
    let kind = phase.kind();
    let after = match (kind, args.after_rung, args.after_round) {
        (Kind::Rung, a, None) => a,
        (Kind::Round, None, a) => a,
        (Kind::Rung, _, Some(_)) => bail!("--after-round: only for a settle study ([settle])"),
        (Kind::Round, Some(_), _) => {
            bail!("--after-rung: only for a halving study ([search.halving])")
        }
    };
    let dir = ResultsDir::new(&opts.out);
    if dir.holds_other_study(exp)? {
        bail!(
            "{}: holds the results of a different study (its study.toml differs); choose another --out",
            opts.out.display()
        );
    }
    // The follow-up step reads the merged records and submits the next
    // step under the folder's lock: no merge or run changes them meanwhile.
    let _lock = match after {
        Some(_) if dir.has_study() => Some(dir.lock(kind.follower())?),
        _ => None,
    };
    let resubmit = format!(
        "mlpsweep slurm {} {} --submit",
        args.file.display(),
        slurm_args(opts)
    );
    let (standing, next) = phase.next(&dir)?;
    let Some(step) = next else {
        writeln!(
            stdout,
            "{standing}; the report is {}",
            opts.out.join("report.md").display()
        )?;
        return Ok(Exit::Success);
    };
    if let Some(exit) = follower_stops(kind, after, step.index, &standing, &resubmit) {
        return Ok(exit);
    }
    eprintln!("{standing}");
    let what = format!("{} {} ({})", kind.word(), step.index, step.about);
    let submitted = write_and_submit(exp, &args.file, opts, &step, args.submit, after.is_some())?;
    tell_submitted(submitted, kind, &what, &resubmit, stdout)?;
    stdout.flush()?;
    Ok(Exit::Success)
}

/// A follow-up job after step `after` stops when the records are not one
/// step further: step `k` incomplete after its own array (the chain stops,
/// to be resubmitted), or records at another step (nothing to do).
fn follower_stops(
    kind: Kind,
    after: Option<usize>,
    k: usize,
    standing: &str,
    resubmit: &str,
) -> Option<Exit> {
    let (word, follower) = (kind.word(), kind.follower());
    match after {
        Some(a) if a == k => {
            eprintln!(
                "{standing}\n{word} {k} is incomplete after its array (a task failed, was cancelled or ran out of time); \
                 the chain stops here. Resubmit the {word} with: {resubmit}"
            );
            Some(Exit::Interrupted)
        }
        Some(a) if a + 1 != k => {
            eprintln!(
                "{standing}\nthis {follower} job follows {word} {a}, but the records are at {word} {k}: nothing to submit"
            );
            Some(Exit::Success)
        }
        _ => None,
    }
}

/// Tell what became of the step `what`: its scripts on `stdout`, then
/// where they are or the job ids; or that it was submitted already.
fn tell_submitted(
    submitted: Submitted,
    kind: Kind,
    what: &str,
    resubmit: &str,
    stdout: &mut dyn Write,
) -> Result<()> {
    let follower = kind.follower();
    match submitted {
        Submitted::Already(jobs) => {
            let by = if jobs.is_empty() {
                format!(
                    "another job is submitting it, or was killed while submitting: \
                     if no job of it is queued, resubmit with: {resubmit}"
                )
            } else {
                jobs
            };
            writeln!(stdout, "{what} was submitted already ({by}); nothing to do")?;
        }
        Submitted::Written(a, p) => {
            writeln!(stdout, "{}", read_text(&a)?)?;
            writeln!(stdout, "{}", read_text(&p)?)?;
            eprintln!(
                "wrote {} and {} for {what}; submit with: sbatch {} (then the {follower} job with \
                 --dependency=afterany:<id>), or rerun with --submit",
                a.display(),
                p.display(),
                a.display()
            );
        }
        Submitted::Jobs(a, p, array, promote) => {
            writeln!(stdout, "{}", read_text(&a)?)?;
            writeln!(stdout, "{}", read_text(&p)?)?;
            writeln!(
                stdout,
                "submitted array job {array} and {follower} job {promote} for {what}"
            )?;
        }
    }
    Ok(())
}
