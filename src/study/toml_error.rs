//! A TOML syntax error as a study error: the parser gives a byte span and
//! a message, not the key; the key is read off the source at the span (the
//! `key = value` line, under the last `[table]` header), so the error says
//! `train.epochs` like every other mistake does. Messages the parser words
//! for its own internals are said in the file's terms.

use super::error::StudyError;

/// The study error of a TOML parse error `e` in `src`, read from `file`.
pub fn study_error(file: &str, src: &str, e: &toml::de::Error) -> StudyError {
    let at = e.span().map(|s| s.start.min(src.len()));
    let message = e.message().trim();
    let (line, key) = match at {
        Some(at) => (
            Some(src[..at].matches('\n').count() + 1),
            key_at(src, at).unwrap_or_default(),
        ),
        None => (None, String::new()),
    };
    StudyError {
        file: file.to_string(),
        line,
        message: format!("invalid TOML: {}", plain(message, &key, header_at(src, at))),
        key,
    }
}

/// The parser's message in the study file's terms.
fn plain(message: &str, key: &str, header: bool) -> String {
    if message.contains("as i128") || message.contains("number too large") {
        "an integer outside the 64-bit range TOML allows".into()
    } else if message.contains("duplicate key") && header {
        format!("the table [{key}] is given twice; write its keys under one header")
    } else if message.contains("duplicate key") {
        format!("{key} is given twice in its table")
    } else {
        message.to_string()
    }
}

/// The line of `src` holding byte `at`.
fn line_of(src: &str, at: usize) -> &str {
    let start = src[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = src[at..].find('\n').map_or(src.len(), |i| at + i);
    &src[start..end]
}

/// Whether the error sits on a `[table]` header line.
fn header_at(src: &str, at: Option<usize>) -> bool {
    at.is_some_and(|at| line_of(src, at).trim_start().starts_with('['))
}

/// The dotted key of the line holding byte `at`: its table header's name,
/// then the key before `=`; the header's name alone on a header line.
fn key_at(src: &str, at: usize) -> Option<String> {
    let line = line_of(src, at).trim();
    if line.starts_with('[') {
        return Some(header_name(line));
    }
    let key = line.split('=').next()?.trim().trim_matches('"');
    if key.is_empty() {
        return None;
    }
    let table = src[..at]
        .lines()
        .rev()
        .skip(1)
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(header_name);
    Some(match table {
        Some(t) => format!("{t}.{key}"),
        None => key.to_string(),
    })
}

/// `[train]` → `train`, `[[claims]]` → `claims`, `[search.halving]` →
/// `search.halving` (a comment after the header dropped).
fn header_name(line: &str) -> String {
    let inner = line.split('#').next().unwrap_or(line);
    inner
        .trim()
        .trim_matches(|c| c == '[' || c == ']')
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(src: &str) -> String {
        let e = src.parse::<toml::Table>().unwrap_err();
        study_error("s.toml", src, &e).to_string()
    }

    /// The three held-out TOML mistakes of issue 23, each now with its key.
    /// Catches the key left empty (as it was) or taken from the wrong
    /// table.
    #[test]
    fn toml_errors_name_their_key() {
        assert_eq!(
            error("name = \"x\"\n[train]\nepochs = 99999999999999999999999\n"),
            "s.toml:3: train.epochs: invalid TOML: an integer outside the 64-bit range TOML allows"
        );
        let e = error("name = \"x\"\n[data]\nnoise = 0.1\n[train]\nlr = 1e400\n");
        assert!(e.starts_with("s.toml:5: train.lr: invalid TOML: "), "{e}");
        assert_eq!(
            error("name = \"x\"\n[train]\nlr = 0.1\n[train]\nepochs = 3\n"),
            "s.toml:4: train: invalid TOML: the table [train] is given twice; write its keys under one header"
        );
        assert_eq!(
            error("name = \"x\"\n[model]\nwidth = 3\nwidth = 4\n"),
            "s.toml:4: model.width: invalid TOML: model.width is given twice in its table"
        );
    }
}
