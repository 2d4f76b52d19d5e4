//! `mlpsweep calibrate DIR`: the engine's own false-positive rate on a
//! results folder's stored trials (`report::calibrate` builds and judges
//! the nulls). Trains nothing and writes no file; the table goes to stdout.

use std::io::Write;
use std::path::Path;

use anyhow::{Result, bail};

use crate::data::Datasets;
use crate::plan::Plan;
use crate::report::calibrate::{self, Rate};
use crate::store::ResultsDir;

/// The level of the intervals in the table.
pub const LEVEL: f64 = 0.95;

/// Judge `reps` nulls of each claim of the folder `dir` (seeded by
/// `seed`) and write the table of rates per claim kind to `stdout`.
/// Returns whether every kind's interval reaches down to its α.
pub fn calibrate(dir: &Path, reps: usize, seed: u64, stdout: &mut dyn Write) -> Result<bool> {
    let folder = ResultsDir::new(dir);
    if !folder.has_study() {
        folder.load_study()?;
    }
    let _lock = folder.lock("calibrate")?;
    let exp = folder.load_study()?;
    let plan = Plan::new(&exp)?;
    let records = folder.read_records()?;
    if records.is_empty() {
        bail!(
            "{}: no stored trials (trials.jsonl): calibration resamples them; run the study first",
            dir.display()
        );
    }
    let datasets = Datasets::load(&exp, &plan)?;
    let rates = calibrate::of_records(&exp, &plan, &records, Some(&datasets), (reps, seed));
    let skipped: Vec<&str> = exp
        .report
        .claims
        .iter()
        .filter(|c| !calibrate::calibrated(c))
        .map(|c| c.name.as_str())
        .collect();
    write!(stdout, "{}", table(&exp.name, &rates, &skipped))?;
    Ok(rates.iter().all(|r| r.interval(LEVEL).0 <= r.alpha))
}

/// The Markdown table of `rates`, with the claims not calibrated.
pub fn table(name: &str, rates: &[Rate], skipped: &[&str]) -> String {
    let mut md = format!(
        "{name}: A/A nulls (split seeds, permuted settings) judged as the report judges\n\n\
         | kind | scheme | nulls | holds | fails | share | {}% interval | α | at or below α |\n\
         |---|---|---:|---:|---:|---:|---|---:|---|\n",
        LEVEL * 100.0
    );
    for r in rates {
        let (lo, hi) = r.interval(LEVEL);
        let ok = if lo <= r.alpha { "yes" } else { "NO" };
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {:.3} | [{lo:.3}, {hi:.3}] | {} | {ok} |\n",
            r.kind,
            r.scheme,
            r.judged,
            r.holds,
            r.fails,
            r.share(),
            r.alpha
        ));
    }
    if rates.is_empty() {
        md.push_str("| (no claim to calibrate) | | | | | | | | |\n");
    }
    if !skipped.is_empty() {
        md.push_str(&format!(
            "\nNot calibrated (a property of a configuration, not of its seeds): {}\n",
            skipped.join("; ")
        ));
    }
    md
}
