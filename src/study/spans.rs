//! Where each key sits in the study file, from the TOML parser's spans
//! (not by scanning the text again), so an error can name its line.
//!
//! Keys are recorded by their path as errors name them: `model.width`,
//! `grid.width`, `zip[0].lr`, `claims[2].metric`. A swept value is also
//! recorded as `grid.<name>` (how errors on grid values are named, whether
//! the file spelled it `width`, `model.width` or `"model.width"`, in
//! `[grid]` or a `[[zip]]`) and a zip key as `zip[i].<section.name>`.

use std::collections::HashMap;

use toml::de::{DeTable, DeValue};

/// Line of each key path in one study file.
#[derive(Debug, Clone, Default)]
pub struct Spans {
    lines: HashMap<String, usize>,
}

impl Spans {
    /// Index `src`; a file that does not parse has no lines to give.
    pub fn parse(src: &str) -> Spans {
        let mut spans = Spans::default();
        if let Ok(doc) = DeTable::parse(src) {
            let line = |offset: usize| src[..offset.min(src.len())].matches('\n').count() + 1;
            walk("", doc.get_ref(), &line, &mut spans.lines);
            let aliases = swept_aliases(&spans.lines);
            for (alias, l) in aliases {
                spans.lines.entry(alias).or_insert(l);
            }
        }
        spans
    }

    /// The 1-based line of the key an error names, if it is in the file.
    pub fn line(&self, key: &str) -> Option<usize> {
        self.lines.get(key).copied()
    }
}

fn walk(
    prefix: &str,
    table: &DeTable,
    line: &dyn Fn(usize) -> usize,
    out: &mut HashMap<String, usize>,
) {
    for (k, v) in table {
        let path = if prefix.is_empty() {
            k.get_ref().to_string()
        } else {
            format!("{prefix}.{}", k.get_ref())
        };
        out.entry(path.clone()).or_insert(line(k.span().start));
        match v.get_ref() {
            DeValue::Table(t) => walk(&path, t, line, out),
            DeValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let DeValue::Table(t) = item.get_ref() {
                        let at = format!("{path}[{i}]");
                        out.entry(at.clone()).or_insert(line(item.span().start));
                        walk(&at, t, line, out);
                    }
                }
            }
            _ => {}
        }
    }
}

/// `grid.<name>` for every swept key, and `zip[i].<section.name>` for zip keys.
fn swept_aliases(lines: &HashMap<String, usize>) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut sorted: Vec<(&String, &usize)> = lines.iter().collect();
    sorted.sort_by_key(|(k, l)| (**l, k.len()));
    for (path, &l) in sorted {
        let (head, flat) = if let Some(rest) = path.strip_prefix("grid.") {
            ("grid".to_string(), rest)
        } else if let Some(rest) = path.strip_prefix("zip[") {
            let Some((i, flat)) = rest.split_once("].") else {
                continue;
            };
            (format!("zip[{i}]"), flat)
        } else {
            continue;
        };
        let name = flat.rsplit('.').next().unwrap_or(flat);
        out.push((format!("grid.{name}"), l));
        if let Ok(canon) = super::keys::canonical(flat) {
            out.push((format!("{head}.{canon}"), l));
        }
    }
    out
}
