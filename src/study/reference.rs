//! The key reference of `docs/study-file.md`, written from the key table so
//! the docs cannot drift from what the parser accepts. A test compares the
//! docs with [`markdown`]; `MLPSWEEP_WRITE_DOCS=1` rewrites them.

use super::fields::Section;
use super::keys::{Default, KEYS, Key, Type, Val};
use super::spec::{Batch, LabelColumn, ValSplit};

/// The Markdown table of a section that is not swept.
pub fn section_markdown(section: &Section) -> String {
    table("applies", section.keys)
}

/// The marker name of a section in the docs: its path, `top` for the top level.
pub fn marker(section: &Section) -> &'static str {
    if section.path.is_empty() {
        "top"
    } else {
        section.path
    }
}

/// The Markdown table of one section's keys.
pub fn markdown(section: &str) -> String {
    table("applies to", KEYS.iter().filter(|k| k.section == section))
}

/// One row a key, under a header whose second column is `applies`.
fn table<'a>(applies: &str, keys: impl IntoIterator<Item = &'a Key>) -> String {
    let mut out = format!(
        "| key | {applies} | default | allowed | meaning |\n| --- | --- | --- | --- | --- |\n"
    );
    for key in keys {
        let applies = key.applies.as_ref().map_or("—", |a| a.doc);
        out.push_str(&format!(
            "| `{}` | {applies} | {} | {} | {} |\n",
            key.name,
            default_text(&key.default),
            allowed_text(&key.ty),
            key.doc
        ));
    }
    out
}

fn default_text(d: &Default) -> String {
    match d {
        Default::Is(v) => val_text(v),
        Default::By(_, doc) => (*doc).to_string(),
        Default::Required(_) => "— (required)".to_string(),
        Default::Unset(doc) => (*doc).to_string(),
    }
}

fn val_text(v: &Val) -> String {
    match v {
        Val::Int(i) => i.to_string(),
        Val::Float(x) if *x != 0.0 && x.abs() < 1e-3 => format!("{x:e}"),
        Val::Float(x) => x.to_string(),
        Val::Bool(b) => b.to_string(),
        Val::Name(n) => format!("`\"{n}\"`"),
        Val::Text(s) => format!("`\"{s}\"`"),
        Val::Label(LabelColumn::Last) => "last column".to_string(),
        Val::Label(LabelColumn::Index(i)) => format!("column {i}"),
        Val::Label(LabelColumn::Name(n)) => format!("`\"{n}\"`"),
        Val::Split(ValSplit::Fresh) => "`\"fresh\"`".to_string(),
        Val::Split(ValSplit::None) => "`\"none\"`".to_string(),
        Val::Split(ValSplit::Test) => "`\"test\"`".to_string(),
        Val::Split(ValSplit::Fraction(f)) => f.to_string(),
        Val::Batch(Batch::Full) => "`\"full\"`".to_string(),
        Val::Batch(Batch::Size(n)) => n.to_string(),
    }
}

fn allowed_text(t: &Type) -> String {
    match t {
        Type::Int { min, max, .. } => format!("{min}..={max}"),
        Type::Float { allowed, .. }
        | Type::Special { allowed, .. }
        | Type::Table(allowed)
        | Type::Own(allowed) => (*allowed).to_string(),
        Type::Text => "a string".to_string(),
        Type::Bool => "true, false".to_string(),
        Type::Choice(names) => names.join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The docs' key reference is the table's: each section sits between
    /// `<!-- keys: SECTION -->` and `<!-- /keys -->` in docs/study-file.md.
    #[test]
    fn docs_key_reference_matches_the_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/study-file.md");
        let mut doc = std::fs::read_to_string(path).unwrap();
        let mut stale = Vec::new();
        let swept = crate::study::keys::SECTIONS
            .iter()
            .map(|s| (*s, markdown(s)));
        let others = crate::study::sections::SECTIONS
            .iter()
            .map(|s| (marker(s), section_markdown(s)));
        for (section, want) in swept.chain(others) {
            let open = format!("<!-- keys: {section} -->\n");
            let start = doc
                .find(&open)
                .unwrap_or_else(|| panic!("{path} lacks {open}"))
                + open.len();
            let end = start + doc[start..].find("<!-- /keys -->").expect("closing marker");
            if doc[start..end] != want {
                stale.push(section);
                doc.replace_range(start..end, &want);
            }
        }
        if std::env::var_os("MLPSWEEP_WRITE_DOCS").is_some() {
            std::fs::write(path, &doc).unwrap();
        } else {
            assert!(
                stale.is_empty(),
                "docs/study-file.md disagrees with the key table in {stale:?}; \
                 rerun with MLPSWEEP_WRITE_DOCS=1 to rewrite it"
            );
        }
    }

    #[test]
    fn every_key_is_documented_once() {
        for key in KEYS {
            assert!(!key.doc.is_empty(), "{} has no doc", key.path());
            assert_eq!(
                KEYS.iter().filter(|k| k.path() == key.path()).count(),
                1,
                "{} is in the table twice",
                key.path()
            );
            if let Some(a) = &key.applies {
                assert!(
                    matches!(a.when, crate::study::keys::When::Resolved(_)),
                    "{} is decided by the keys resolved before it",
                    key.path()
                );
                let decider = crate::study::keys::index(a.decider).expect("decider is a key");
                let me = crate::study::keys::index(&key.path()).unwrap();
                assert!(decider < me, "{} is decided by a later key", key.path());
            }
        }
    }
}
