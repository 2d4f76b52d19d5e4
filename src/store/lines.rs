//! Parsing `trials.jsonl`: a run's report reads every record back, and a
//! large log (40,000 records of benches/p3.toml: ~90 MB) takes a third of a
//! second to parse on one thread, so it is parsed in two halves on two
//! threads, split at a line break: the same records in the same order.

use crate::train::TrialRecord;

/// Logs smaller than this are parsed on one thread.
const SPLIT_FROM: usize = 1 << 20;

/// The records of `text`'s lines, in line order; lines that do not parse
/// (a torn last line, other formats) are skipped.
pub(super) fn parse(text: &str) -> Vec<TrialRecord> {
    parse_split_from(text, SPLIT_FROM)
}

/// [`parse`], splitting texts of at least `from` bytes.
fn parse_split_from(text: &str, from: usize) -> Vec<TrialRecord> {
    let at = text[text.len() / 2..]
        .find('\n')
        .map(|i| text.len() / 2 + i + 1);
    match at {
        Some(at) if text.len() >= from => {
            let (first, second) = text.split_at(at);
            std::thread::scope(|s| {
                let tail = s.spawn(|| serial(second));
                let mut records = serial(first);
                records.extend(tail.join().expect("the parsing thread finishes"));
                records
            })
        }
        _ => serial(text),
    }
}

fn serial(text: &str) -> Vec<TrialRecord> {
    text.lines()
        .filter_map(|line| serde_json::from_str::<TrialRecord>(line).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ParamCount;
    use crate::plan::Plan;
    use crate::study::from_str;

    /// Split in two or not, at every split point of a log whose lines
    /// differ (a line of another format and a torn last line among them),
    /// the records come back once each, in line order. Catches the line at
    /// the split lost or parsed twice, and the halves joined in the wrong
    /// order.
    #[test]
    fn split_parsing_keeps_every_record_once_in_order() {
        let src = "name = \"a\"\nseeds = 3\n[grid]\nwidth = [2, 8]\n";
        let e = from_str(src, std::path::Path::new("s.toml"), &[]).unwrap();
        let plan = Plan::new(&e).unwrap();
        let params = ParamCount {
            weights: 4,
            biases: 2,
            total: 6,
            hidden_neurons: 2,
            norm: 0,
        };
        let records: Vec<TrialRecord> = plan
            .trials
            .iter()
            .map(|t| TrialRecord::new(t, params))
            .collect();
        let mut text = String::new();
        for (i, r) in records.iter().enumerate() {
            text.push_str(&serde_json::to_string(r).unwrap());
            text.push('\n');
            if i == 2 {
                text.push_str("{\"format\": 99}\n");
            }
        }
        let whole = text.clone();
        text.push_str(&whole[..40]);
        assert_eq!(serial(&text), records);
        assert_eq!(parse_split_from(&text, 0), records);
        for end in (0..whole.len()).step_by(97) {
            let part = &whole[..end];
            assert_eq!(parse_split_from(part, 0), serial(part), "{end} bytes");
        }
    }
}
