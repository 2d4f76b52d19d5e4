//! Settings that are valid one by one but cannot all hold in one study: a
//! key both fixed and swept, a key that applies to none of the study's
//! configurations, a `[report]` key the study's task has no use for. Each
//! would otherwise be silently ignored (or, for fixed-and-swept, listed as
//! both in the report), so the study is refused before anything runs.

use toml::Value;

use super::error::{KeyError, key_err};
use super::grid::Axis;
use super::keys::{KEYS, index};
use super::spec::{Config, Schedule, Task};
use super::values::show;

/// A key is fixed (`[model] width = 4`) or swept (`[grid] width = [2, 4]`),
/// not both: the sweep would silently win over the fixed value.
pub fn fixed_or_swept(base: &[(String, Value)], axes: &[Axis]) -> Result<(), KeyError> {
    for (key, value) in base {
        let Some(axis) = axes.iter().find(|a| a.keys.contains(key)) else {
            continue;
        };
        let where_ = if axis.sampled {
            "drawn in [space]"
        } else {
            "swept in [grid] or [[zip]]"
        };
        let section = key.split_once('.').map_or(key.as_str(), |(s, _)| s);
        return Err(key_err(
            key.as_str(),
            format!(
                "fixed to {} in [{section}] and also {where_}; a key is fixed or swept, not both: remove one",
                show(value)
            ),
        ));
    }
    Ok(())
}

/// A key given (fixed or swept) that does not apply to any configuration
/// (`beta1` while no swept optimiser is Adam). `unused[i]` holds the keys
/// that do not apply to configuration `i`; across a sweep where the key
/// applies to some configurations, it is fine.
pub fn applies_somewhere(unused: &[Vec<String>], axes: &[Axis]) -> Result<(), KeyError> {
    let Some(first) = unused.first() else {
        return Ok(());
    };
    for key in first {
        if unused.iter().all(|u| u.contains(key)) {
            return Err(never_applies(key, axes));
        }
    }
    Ok(())
}

/// The error for a key that applies to no configuration, naming the
/// values its deciding key takes in the study.
fn never_applies(key: &str, axes: &[Axis]) -> KeyError {
    let swept = axes.iter().any(|a| a.keys.iter().any(|k| k == key));
    let name = key.split_once('.').map_or(key, |(_, n)| n);
    let at = if swept {
        format!("grid.{name}")
    } else {
        key.to_string()
    };
    let Some(applies) = index(key).and_then(|i| KEYS[i].applies.as_ref()) else {
        return key_err(
            at,
            "has no effect without hidden layers, and every configuration has model.depth = 0",
        );
    };
    let d = applies.decider;
    let taken: Vec<String> = axes
        .iter()
        .flat_map(|a| {
            let k = a.keys.iter().position(|k| k == d);
            k.into_iter()
                .flat_map(move |k| a.points.iter().map(move |p| show(&p[k])))
        })
        .fold(Vec::new(), |mut seen, v| {
            if !seen.contains(&v) {
                seen.push(v);
            }
            seen
        });
    let taken = if taken.is_empty() {
        String::new()
    } else {
        format!(" (swept: {})", taken.join(", "))
    };
    key_err(
        at,
        format!(
            "applies only with {d} = {}, which no configuration of this study has{taken}; remove it or add such a {d}",
            applies.doc
        ),
    )
}

/// `[report]` keys the study has no use for, which would be ignored:
/// `target_acc` is a train accuracy, and a study whose every configuration
/// is a regression has none; `stuck_relative = "slice"` slices by the first
/// swept axis, and a study with none is one slice (the whole study).
pub fn report_applies(
    report: Option<&Value>,
    configs: &[Config],
    axes: &[Axis],
) -> Result<(), KeyError> {
    let Some(Value::Table(r)) = report else {
        return Ok(());
    };
    if axes.is_empty() && r.get("stuck_relative").and_then(Value::as_str) == Some("slice") {
        return Err(key_err(
            "report.stuck_relative",
            "\"slice\" compares trials sharing a setting of the first swept axis, but nothing is swept; use \"study\" or \"config\"",
        ));
    }
    let regression = configs.iter().all(|c| c.data.task() == Task::Regression);
    if regression && r.contains_key("target_acc") {
        return Err(key_err(
            "report.target_acc",
            "the train accuracy epochs_to_target waits for, but every configuration is a regression (no accuracy); remove it",
        ));
    }
    Ok(())
}

/// A step schedule whose first drop (after `step_every` epochs) comes after
/// the last epoch in every configuration that has one: the rate never
/// drops, so the schedule and `step_factor` would be silently ignored.
pub fn schedule_acts(configs: &[Config], axes: &[Axis]) -> Result<(), KeyError> {
    let steps: Vec<(usize, usize)> = configs
        .iter()
        .filter_map(|c| match c.train.schedule {
            Schedule::Step { every, .. } => Some((every, c.train.epochs)),
            _ => None,
        })
        .collect();
    if steps.is_empty() || steps.iter().any(|(every, epochs)| every < epochs) {
        return Ok(());
    }
    let swept = axes
        .iter()
        .any(|a| a.keys.iter().any(|k| k == "train.step_every"));
    let key = if swept {
        "grid.step_every"
    } else {
        "train.step_every"
    };
    let (every, epochs) = steps[0];
    Err(key_err(
        key,
        format!(
            "the step schedule drops the rate every {every} epochs, but training stops at {epochs}: it never drops; make step_every smaller than epochs"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use crate::study::from_str;
    use std::path::Path;

    fn err(src: &str) -> String {
        from_str(src, Path::new("s.toml"), &[])
            .unwrap_err()
            .to_string()
    }

    /// Catches dropping the fixed-versus-swept check (`[model] width = 0`
    /// beside `[grid] width`: never read, and listed as fixed and swept).
    #[test]
    fn a_key_fixed_and_swept_is_refused() {
        let e = err("name = \"a\"\n[model]\nwidth = 0\n[grid]\nwidth = [2, 4]\n");
        assert!(
            e.starts_with("s.toml:3: model.width: fixed to 0 in [model]"),
            "{e}"
        );
    }

    /// Catches `all` → `any` in `applies_somewhere` (beta1 refused while
    /// Adam is one of the swept optimisers) and its removal (beta1 kept
    /// while no swept optimiser is Adam).
    #[test]
    fn a_key_applying_to_no_swept_value_is_refused() {
        let grid = |opts: &str| {
            format!("name = \"a\"\n[train]\nbeta1 = 0.8\n[grid]\noptimizer = [{opts}]\n")
        };
        let e = err(&grid("\"sgd\", \"rmsprop\""));
        assert!(
            e.starts_with("s.toml:3: train.beta1: applies only with train.optimizer = adam"),
            "{e}"
        );
        assert!(e.contains("(swept: \"sgd\", \"rmsprop\")"), "{e}");
        let ok = from_str(&grid("\"sgd\", \"adam\""), Path::new("s.toml"), &[]);
        assert!(ok.is_ok(), "{ok:?}");
    }

    /// Catches dropping the `--set` note: the error names the file's
    /// `alpha`, but the activation that made it not apply was typed on the
    /// command line, and the message must say so.
    #[test]
    fn a_key_made_inapplicable_by_a_set_says_so() {
        let src = "name = \"a\"\n[model]\nactivation = \"leaky_relu\"\nalpha = 0.1\n";
        let sets = ["activation=relu".to_string()];
        let e = from_str(src, Path::new("s.toml"), &sets)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "s.toml:4: model.alpha: does not apply with this model.activation (set with --set); \
             remove it or change model.activation"
        );
    }

    /// Catches dropping the regression check on `[report] target_acc`.
    #[test]
    fn target_acc_on_regression_is_refused() {
        let e = err("name = \"a\"\n[data]\nkind = \"sine\"\n[report]\ntarget_acc = 0.5\n");
        assert!(e.starts_with("s.toml:5: report.target_acc:"), "{e}");
    }
}
