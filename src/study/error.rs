//! Errors in a study file or a `--set` override. A [`KeyError`] is what a
//! reader finds (which key, what is wrong); the study attaches the file and
//! the line the TOML parser recorded for that key, giving a [`StudyError`].

use std::fmt;

/// An error in a study file or a `--set` override: where, which key, why.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyError {
    /// The study file (or `--set` for command-line overrides).
    pub file: String,
    /// 1-based line in the file, where it is known.
    pub line: Option<usize>,
    /// Dotted key path, e.g. `model.width` or `grid.width`.
    pub key: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl fmt::Display for StudyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: ", self.file, line)?,
            None => write!(f, "{}: ", self.file)?,
        }
        if self.key.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.key, self.message)
        }
    }
}

impl std::error::Error for StudyError {}

/// A problem with one key, before the file and line are attached.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyError {
    /// Dotted key path as the user should look for it.
    pub key: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

/// A [`KeyError`] from anything printable.
pub fn key_err(key: impl Into<String>, message: impl Into<String>) -> KeyError {
    KeyError {
        key: key.into(),
        message: message.into(),
    }
}
