//! Where each setting of a swept key sits on a categorical axis: the
//! numbers in increasing order, then the other settings (`"full"`, names)
//! in the study's order, each labelled as written. Positions come from
//! the study's axis, not from the finished trials, so a setting whose
//! every seed diverged keeps its place and a non-numeric setting is never
//! dropped.

use crate::study::{Setting, Study};

/// The settings of one swept key in figure order.
#[derive(Debug, Clone, PartialEq)]
pub(in crate::report) struct Positions {
    /// The settings, numbers first (sorted), then the others.
    pub settings: Vec<Setting>,
    /// Their tick labels (`Setting`'s display: distinct for distinct values).
    pub labels: Vec<String>,
}

/// A setting's number, if it is one.
pub(in crate::report) fn number(s: &Setting) -> Option<f64> {
    match s {
        Setting::Int(i) => Some(*i as f64),
        Setting::Float(f) => Some(*f),
        _ => None,
    }
}

impl Positions {
    /// The settings of `key` on its axis; `None` when `key` is not swept.
    pub(in crate::report) fn of(exp: &Study, key: &str) -> Option<Positions> {
        let axis = exp.axes.iter().find(|a| a.keys.iter().any(|k| k == key))?;
        let k = axis.keys.iter().position(|x| x == key)?;
        let mut numbers: Vec<(f64, Setting)> = Vec::new();
        let mut others: Vec<Setting> = Vec::new();
        for i in 0..axis.len() {
            let s = axis.setting(i, k);
            match number(&s) {
                Some(x) if !numbers.iter().any(|(_, t)| *t == s) => numbers.push((x, s)),
                None if !others.contains(&s) => others.push(s),
                _ => {}
            }
        }
        numbers.sort_by(|a, b| a.0.total_cmp(&b.0));
        let settings: Vec<Setting> = numbers.into_iter().map(|p| p.1).chain(others).collect();
        let labels = settings.iter().map(|s| s.to_string()).collect();
        Some(Positions { settings, labels })
    }

    /// How many positions.
    pub(in crate::report) fn len(&self) -> usize {
        self.settings.len()
    }

    /// The position of `s`.
    pub(in crate::report) fn index(&self, s: &Setting) -> Option<usize> {
        self.settings.iter().position(|t| t == s)
    }

    /// Whether the setting at position `i` is a number (lines join only
    /// numeric neighbours).
    pub(in crate::report) fn is_number(&self, i: usize) -> bool {
        number(&self.settings[i]).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `batch_size = [128, 8, "full", 32]`: numbers sorted, then "full".
    /// Catches a non-numeric setting dropped (the figure lost its seeds)
    /// or sorted among the numbers.
    #[test]
    fn strings_follow_the_sorted_numbers() {
        let src = "name = \"a\"\nseeds = 1\n[grid]\nbatch_size = [128, 8, \"full\", 32]\n";
        let e = crate::testkit::study(src);
        let p = Positions::of(&e, "train.batch_size").unwrap();
        assert_eq!(p.labels, ["8", "32", "128", "full"]);
        assert_eq!(p.index(&Setting::Str("full".into())), Some(3));
        assert!(p.is_number(2) && !p.is_number(3));
    }
}
