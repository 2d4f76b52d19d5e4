//! Successive halving driven through the binary: promoted trials end with
//! the records of a plain run, the promotions are the seed medians
//! recomputed here from the stored records, the winners' weights are
//! plain safetensors, and `--jobs` changes nothing.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::Path;

use common::{
    HALVING_BODY, HALVING_SEARCH, arg, csv, run_ok, run_study_ok, temp_study, write_study,
};
use mlpsweep::store::ResultsDir;
use serde_json::Value;

const BUDGETS: [u64; 5] = [1, 2, 4, 8, 9];

fn halving_study() -> String {
    format!("name = \"halving\"\n{HALVING_BODY}{HALVING_SEARCH}")
}

/// Every record of trials.jsonl (its curve and predictions read back from
/// trials.bin), as JSON.
fn lines(out: &Path) -> Vec<Value> {
    ResultsDir::new(out)
        .read_history()
        .unwrap()
        .iter()
        .map(|r| serde_json::to_value(r).unwrap())
        .collect()
}

/// The last line of each trial, without its wall time.
fn latest(out: &Path) -> BTreeMap<String, Value> {
    let mut by_id = BTreeMap::new();
    for mut v in lines(out) {
        v.as_object_mut().unwrap().remove("wall_time_s");
        by_id.insert(v["id"].as_str().unwrap().to_string(), v);
    }
    by_id
}

/// trials.csv's column `name` keyed by trial id.
fn column(out: &Path, name: &str) -> HashMap<String, String> {
    let rows = csv(&out.join("trials.csv"));
    let (id, col) = (
        rows[0].iter().position(|c| c == "id").unwrap(),
        rows[0].iter().position(|c| c == name).unwrap(),
    );
    rows[1..]
        .iter()
        .map(|r| (r[id].clone(), r[col].clone()))
        .collect()
}

/// A trial that reaches the last rung has, line for line, the record of
/// the same trial in the plain study (the file without [search.halving]):
/// same id, curve, metrics, initial evaluation and decision regions. The
/// others stop at their rung with `epochs_trained`. Catches a continuation
/// that is not bit-identical (a generator, the order or the step counter
/// not restored), and halving changing trial ids.
#[test]
fn promoted_trials_end_with_the_records_of_a_plain_run() {
    let (tmp, halving) = temp_study("h.toml", &halving_study());
    let plain = write_study(
        tmp.path(),
        "p.toml",
        &format!("name = \"halving\"\n{HALVING_BODY}"),
    );
    let (h_out, p_out) = (tmp.path().join("h"), tmp.path().join("p"));
    // `plan` lists the same trial ids with and without [search.halving].
    let ids = |study: &Path| -> Vec<String> {
        let none = study.with_extension("nothing-stored");
        common::stdout(&run_ok(&["plan", arg(study), "--out", arg(&none)]))
            .lines()
            .filter_map(|l| l.split_whitespace().nth(1).map(String::from))
            .filter(|id| id.len() == 16)
            .collect()
    };
    assert_eq!(ids(&halving), ids(&plain));
    assert_eq!(ids(&halving).len(), 24);
    run_study_ok(&halving, &h_out, &["--jobs", "2"]);
    run_study_ok(&plain, &p_out, &["--jobs", "2"]);
    let listed = common::stdout(&run_ok(&["plan", arg(&halving), "--out", arg(&h_out)]));
    assert!(listed.ends_with("halving: all 5 rungs done\n"), "{listed}");
    let (h, p) = (latest(&h_out), latest(&p_out));
    assert_eq!(
        h.keys().collect::<Vec<_>>(),
        p.keys().collect::<Vec<_>>(),
        "every trial of the plain study, by the same ids, trained at least to rung 0"
    );
    let mut finished = 0;
    for (id, rec) in &h {
        match rec.get("epochs_trained") {
            None => {
                assert_eq!(rec, &p[id], "trial {id} reached the last rung");
                finished += 1;
            }
            Some(e) => {
                let e = e.as_u64().unwrap();
                assert!(BUDGETS[..4].contains(&e), "{id} stopped at a rung: {e}");
                assert_ne!(rec["metrics"], p[id]["metrics"]);
            }
        }
    }
    // The last rung keeps ⌈1/2⌉ = 1 configuration: its 3 seeds.
    assert_eq!(finished, 3);
}

/// The rungs, recomputed here from every stored line: at each budget the
/// median val_loss of each configuration's three seeds (the middle value),
/// ranked with ties to the lower index; the best ⌈n/2⌉ are exactly the
/// configurations with records at the next budget. rungs.csv's counts and
/// best medians match. The winners' checkpoints are safetensors whose
/// `params` tensor has the trial's parameter count (read from the header
/// here, not by our decoder). Catches ranking by one seed or by the mean,
/// the wrong direction, ⌊n/η⌋ for ⌈n/η⌉, and a promotion off by a rung.
#[test]
fn promotions_follow_the_seed_median_recomputed_from_the_records() {
    let (tmp, study) = temp_study("h.toml", &halving_study());
    let out = tmp.path().join("h");
    run_study_ok(&study, &out, &["--jobs", "2"]);
    let config = column(&out, "config");
    // (budget, config) → val losses of its seeds at that budget.
    let mut at: BTreeMap<(u64, u64), Vec<f64>> = BTreeMap::new();
    for v in lines(&out) {
        let budget = v.get("epochs_trained").map_or(9, |e| e.as_u64().unwrap());
        let c: u64 = config[v["id"].as_str().unwrap()].parse().unwrap();
        at.entry((budget, c))
            .or_default()
            .push(v["metrics"]["val_loss"].as_f64().unwrap());
    }
    let rungs = csv(&out.join("rungs.csv"));
    assert_eq!(rungs[0], ["rung", "budget", "configs_in", "kept", "best"]);
    let mut configs: Vec<u64> = (0..8).collect();
    for (k, &budget) in BUDGETS.iter().enumerate() {
        let mut medians: Vec<(f64, u64)> = configs
            .iter()
            .map(|&c| {
                let mut seeds = at[&(budget, c)].clone();
                assert_eq!(seeds.len(), 3, "config {c} at {budget}: each seed once");
                seeds.sort_by(f64::total_cmp);
                (seeds[1], c)
            })
            .collect();
        medians.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let keep = configs.len().div_ceil(2);
        let mut kept: Vec<u64> = medians[..keep].iter().map(|m| m.1).collect();
        kept.sort();
        let row = &rungs[k + 1];
        assert_eq!(
            row[..4],
            [
                k.to_string(),
                budget.to_string(),
                configs.len().to_string(),
                keep.to_string()
            ]
        );
        assert_eq!(
            row[4].parse::<f64>().unwrap(),
            medians[0].0,
            "rung {k}'s best"
        );
        if let Some(&next) = BUDGETS.get(k + 1) {
            let reached: Vec<u64> = (0..8).filter(|c| at.contains_key(&(next, *c))).collect();
            assert_eq!(reached, kept, "rung {k} promotes its best {keep}");
        }
        configs = kept;
    }
    // The winner's final weights, listed in the report, are safetensors.
    let report = fs::read_to_string(out.join("report.md")).unwrap();
    let params = column(&out, "params");
    let epochs = column(&out, "epochs_trained");
    let winners: Vec<&String> = epochs
        .iter()
        .filter(|(_, e)| *e == "9")
        .map(|(id, _)| id)
        .collect();
    assert_eq!(winners.len(), 3);
    for id in winners {
        let name = format!("checkpoints/{id}.safetensors");
        assert!(report.contains(&format!("`{name}`")), "report lists {name}");
        let bytes = fs::read(out.join(&name)).unwrap();
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let header: Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
        assert_eq!(header["params"]["dtype"], "F32");
        assert_eq!(
            header["params"]["shape"][0].as_u64().unwrap().to_string(),
            params[id]
        );
        assert_eq!(header["__metadata__"]["epoch"], "9");
    }
}

/// `--jobs 1` and `--jobs 2` give the same trials.csv, summary.csv and
/// rungs.csv: promotions wait for a whole rung, so the order trials finish
/// in cannot change them. Catches promoting on the first results in.
#[test]
fn jobs_do_not_change_the_rungs_or_the_tables() {
    let (tmp, study) = temp_study("h.toml", &halving_study());
    let mut tables = Vec::new();
    for jobs in ["1", "2"] {
        let out = tmp.path().join(format!("j{jobs}"));
        run_ok(&[
            "run",
            arg(&study),
            "--out",
            arg(&out),
            "--jobs",
            jobs,
            "--quiet",
        ]);
        tables.push((
            common::tables(&out),
            fs::read_to_string(out.join("rungs.csv")).unwrap(),
        ));
    }
    assert!(tables[0] == tables[1], "--jobs 1 and 2 agree");
    assert_eq!(tables[0].1.lines().count(), 1 + BUDGETS.len());
}

/// A checkpoint's header length and header JSON (safetensors: 8 bytes
/// little-endian, then the JSON), read by hand.
fn header(bytes: &[u8]) -> (usize, Value) {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    (n, serde_json::from_slice(&bytes[8..8 + n]).unwrap())
}

/// The byte range of tensor `name` in a checkpoint file.
fn tensor_bytes(bytes: &[u8], name: &str) -> std::ops::Range<usize> {
    let (n, h) = header(bytes);
    let at = |i: usize| 8 + n + h[name]["data_offsets"][i].as_u64().unwrap() as usize;
    at(0)..at(1)
}

/// Damaged checkpoints, through the binary: a halving run is SIGKILLed
/// (`MLPSWEEP_TEST_KILL_AFTER_CHECKPOINT`) right after the first rung-1
/// trial's checkpoint is stored, before its record; the other rung-1
/// trials still hold their rung-0 checkpoints. Then one bit of the killed
/// trial's `state` tensor is flipped, one digit of another's header (`t`),
/// and a third's `order` gets the index of the panic. The rerun
/// names each file on stderr, retrains those three trials from epoch 0,
/// and ends with the clean run's records line for line (wall times aside)
/// and its rungs. Catches a checksum not checked before use (the damaged
/// weights would be trained on, or the killed trial's record taken from its
/// checkpoint), and the order panic.
#[test]
fn damaged_checkpoints_are_not_used_and_their_trials_retrain_to_the_clean_result() {
    let (tmp, study) = temp_study("h.toml", &halving_study());
    let (clean, out) = (tmp.path().join("clean"), tmp.path().join("damaged"));
    run_study_ok(&study, &clean, &["--jobs", "1", "--quiet"]);
    // With one job, records are stored in training order: rung 1's trials
    // in the order they trained.
    let rung1: Vec<String> = lines(&clean)
        .iter()
        .filter(|v| v.get("epochs_trained").and_then(Value::as_u64) == Some(2))
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(rung1.len(), 12);
    let o = common::bin()
        .args([
            "run",
            arg(&study),
            "--out",
            arg(&out),
            "--jobs",
            "1",
            "--quiet",
        ])
        .env(
            "MLPSWEEP_TEST_KILL_AFTER_CHECKPOINT",
            format!("{}:2", rung1[0]),
        )
        .output()
        .unwrap();
    assert!(!o.status.success(), "killed by the hook");
    let file = |id: &str| out.join("checkpoints").join(format!("{id}.safetensors"));
    let damage = |id: &str, f: &dyn Fn(&mut Vec<u8>)| {
        let mut bytes = fs::read(file(id)).unwrap();
        f(&mut bytes);
        fs::write(file(id), bytes).unwrap();
    };
    damage(&rung1[0], &|b| {
        assert_eq!(header(b).1["__metadata__"]["epoch"], "2");
        let r = tensor_bytes(b, "state");
        b[r.start + 13] ^= 0x04;
    });
    damage(&rung1[1], &|b| {
        assert_eq!(header(b).1["__metadata__"]["epoch"], "1");
        let at = b.windows(5).position(|w| w == b"\"t\":\"").unwrap() + 5;
        b[at] = if b[at] == b'9' { b'8' } else { b[at] + 1 };
    });
    damage(&rung1[2], &|b| {
        let r = tensor_bytes(b, "order");
        b[r.start..r.start + 4].copy_from_slice(&4_261_417_832u32.to_le_bytes());
    });
    let o = run_study_ok(&study, &out, &["--jobs", "1", "--quiet"]);
    let err = common::stderr(&o);
    for id in &rung1[..3] {
        let said = format!(
            "warning: checkpoint {}: checksum mismatch",
            file(id).display()
        );
        assert!(err.contains(&said), "{said} in {err}");
        assert!(err.contains(&format!("trial {id} is retrained from epoch 0")));
    }
    assert_eq!(err.matches("warning: checkpoint").count(), 3, "{err}");
    assert_eq!(latest(&out), latest(&clean));
    let keys: Vec<(String, Option<u64>)> = lines(&out)
        .iter()
        .map(|v| {
            let e = v.get("epochs_trained").and_then(Value::as_u64);
            (v["id"].as_str().unwrap().to_string(), e)
        })
        .collect();
    let once: std::collections::HashSet<_> = keys.iter().collect();
    assert_eq!(once.len(), keys.len(), "every (trial, rung) stored once");
    assert_eq!(keys.len(), lines(&clean).len());
    assert_eq!(
        fs::read_to_string(out.join("rungs.csv")).unwrap(),
        fs::read_to_string(clean.join("rungs.csv")).unwrap()
    );
}
