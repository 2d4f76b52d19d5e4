//! Markdown exporter: `summary.md`, a header saying what was run and one
//! table row per configuration, formatted for people (mean ± std, sensible
//! precision, thousands separators).

use anyhow::Result;
use polars::prelude::*;

use super::Report;
use crate::experiment::Experiment;
use crate::plan::Plan;

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A loss-like number with four significant digits.
pub fn number(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if x.abs() >= 1e-3 && x.abs() < 1e4 {
        let digits = (3 - x.abs().log10().floor() as i32).max(0) as usize;
        format!("{x:.digits$}")
    } else {
        format!("{x:.3e}")
    }
}

/// `mean ± std`, or the mean alone where std is undefined (one seed).
pub fn mean_std(mean: Option<f64>, std: Option<f64>, percent: bool) -> String {
    let f = |x: f64| {
        if percent {
            format!("{:.1}", 100.0 * x)
        } else {
            number(x)
        }
    };
    match (mean, std) {
        (None, _) => "–".into(),
        (Some(m), None) => f(m),
        (Some(m), Some(s)) => format!("{} ± {}", f(m), f(s)),
    }
}

fn f64_at(df: &DataFrame, name: &str, i: usize) -> Result<Option<f64>> {
    Ok(df.column(name)?.f64()?.get(i))
}

fn u64_at(df: &DataFrame, name: &str, i: usize) -> Result<Option<u64>> {
    Ok(df.column(name)?.u64()?.get(i))
}

/// Render `summary.md`.
pub fn render(exp: &Experiment, plan: &Plan, report: &Report) -> Result<Vec<u8>> {
    let s = &report.summary;
    let mut md = format!("# {}\n\n", exp.name);
    if !exp.description.is_empty() {
        md.push_str(&format!("{}\n\n", exp.description));
    }
    md.push_str(&format!(
        "{} configurations × {} seeds = {} trials; {} stored.\n",
        plan.n_configs,
        exp.seeds.len(),
        plan.len(),
        report.trials.height()
    ));
    if !report.swept.is_empty() {
        let axes: Vec<String> = exp
            .axes
            .iter()
            .map(|a| {
                let vals: Vec<String> = (0..a.len())
                    .map(|i| {
                        (0..a.keys.len())
                            .map(|k| a.setting(i, k).to_string())
                            .collect::<Vec<_>>()
                            .join("/")
                    })
                    .collect();
                format!("`{}` ∈ {{{}}}", a.keys.join("/"), vals.join(", "))
            })
            .collect();
        md.push_str(&format!("Swept: {}.\n", axes.join("; ")));
    }
    let fixed = exp.fixed_settings();
    if !fixed.is_empty() {
        let f: Vec<String> = fixed.iter().map(|(k, v)| format!("`{k}` = {v}")).collect();
        md.push_str(&format!("Fixed: {}.\n", f.join(", ")));
    }
    md.push_str(
        "\nDepth counts hidden layers. Losses are mean data losses at the last epoch \
         (cross-entropy or MSE, without the L2 term), evaluated without dropout; \
         accuracies in %. Each cell is mean ± sample std (ddof = 1) over the seeds that \
         finished; diverged or failed trials are counted, not averaged.\n\n",
    );

    let mut header: Vec<String> = report.swept.clone();
    header.extend(
        [
            "n",
            "params",
            "train loss",
            "val loss",
            "train acc",
            "val acc",
        ]
        .map(String::from),
    );
    let any_bad = (0..s.height()).any(|i| {
        u64_at(s, "n_diverged", i).ok().flatten().unwrap_or(0)
            + u64_at(s, "n_failed", i).ok().flatten().unwrap_or(0)
            > 0
    });
    if any_bad {
        header.push("diverged / failed".into());
    }
    md.push_str(&format!("| {} |\n", header.join(" | ")));
    let align: Vec<&str> = header
        .iter()
        .enumerate()
        .map(|(i, _)| {
            if i < report.swept.len() {
                "---"
            } else {
                "---:"
            }
        })
        .collect();
    md.push_str(&format!("|{}|\n", align.join("|")));
    for i in 0..s.height() {
        let mut row: Vec<String> = Vec::new();
        for name in &report.swept {
            row.push(super::csv::cell(&s.column(name)?.get(i)?));
        }
        row.push(u64_at(s, "n", i)?.unwrap_or(0).to_string());
        row.push(
            u64_at(s, "params", i)?
                .map(thousands)
                .unwrap_or_else(|| "–".into()),
        );
        for (m, pct) in [
            ("train_loss", false),
            ("val_loss", false),
            ("train_acc", true),
            ("val_acc", true),
        ] {
            row.push(mean_std(
                f64_at(s, &format!("{m}_mean"), i)?,
                f64_at(s, &format!("{m}_std"), i)?,
                pct,
            ));
        }
        if any_bad {
            row.push(format!(
                "{} / {}",
                u64_at(s, "n_diverged", i)?.unwrap_or(0),
                u64_at(s, "n_failed", i)?.unwrap_or(0)
            ));
        }
        md.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    Ok(md.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_for_people() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(number(0.123456), "0.1235");
        assert_eq!(number(12.3456), "12.35");
        assert_eq!(number(0.00001234), "1.234e-5");
        assert_eq!(mean_std(Some(0.5), None, false), "0.5000");
        assert_eq!(mean_std(Some(0.975), Some(0.0124), true), "97.5 ± 1.2");
        assert_eq!(mean_std(None, None, false), "–");
    }
}
