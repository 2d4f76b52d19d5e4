//! report.md's "Where the variance comes from": one row per configuration,
//! the share of its variance due to each source, with bootstrap intervals.

use super::{number, percent_cell, table_head};
use crate::plan::Plan;
use crate::report::Report;
use crate::report::variance::{shown_metric, term_names};
use crate::study::{Source, Study};

/// The section, or nothing for a study whose sources are not crossed.
pub fn section(exp: &Study, plan: &Plan, report: &Report, level: f64) -> String {
    let Some(metric) = shown_metric(exp, report) else {
        return String::new();
    };
    let varying = exp.replication.varying();
    let sources: Vec<Source> = varying.iter().map(|(s, _)| *s).collect();
    let terms = term_names(&sources);
    let mut md = format!(
        "\n## Where the variance comes from\n\n\
         Each configuration ran {}, crossing independent seeds of each source. \
         The variance of its final {} across them splits into one share per source, \
         their interactions and the residual (random-effects ANOVA of the crossed design, \
         method of moments; `docs/reports.md`). Brackets: {} bootstrap intervals, \
         resampling the seeds of every source. An asterisk marks a negative estimate set to 0. \
         Components for train loss, val loss and val accuracy are in `summary.csv` \
         (`var_<source>_<metric>`, `share_<source>_<metric>`).\n\n",
        exp.replication.describe(),
        metric.name(),
        crate::report::percent(level),
    );
    let mut header: Vec<String> = report.swept.clone();
    header.push("variance".into());
    header.extend(terms.iter().map(|t| t.replace("_x_", "×")));
    md.push_str(&table_head(&header, report.swept.len()));
    for c in 0..plan.n_configs {
        let Some(d) = report
            .variance
            .iter()
            .find(|d| d.config == c && d.metric == metric)
        else {
            continue;
        };
        let t = plan
            .trials
            .iter()
            .find(|t| t.config_index == c)
            .expect("a decomposed configuration has trials");
        let mut row: Vec<String> = t.swept.iter().map(|(_, v)| v.to_string()).collect();
        row.push(number(d.components.iter().map(|x| x.variance).sum()));
        for name in &terms {
            row.push(match d.get(name) {
                None => "–".into(),
                Some(x) => {
                    let star = if x.truncated { "*" } else { "" };
                    match x.share_interval {
                        Some((lo, hi)) if x.share.is_finite() => format!(
                            "{}{star} [{}, {}]",
                            percent_cell(x.share),
                            percent_cell(lo),
                            percent_cell(hi)
                        ),
                        _ if x.share.is_finite() => format!("{}{star}", percent_cell(x.share)),
                        _ => "–".into(),
                    }
                }
            });
        }
        md.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    md
}
