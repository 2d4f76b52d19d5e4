//! Values into job scripts: every value `mlpsweep slurm` writes into a
//! batch script either is checked or is quoted, so that no value can add a
//! line or a command (issue 23: `--partition $'short\nrm -rf ~'` wrote a
//! bare `rm -rf ~` line into both scripts).
//!
//! Two places, two rules. An `#SBATCH` line is read by SLURM itself, not
//! by the shell, and SLURM has its own quoting (quotes, backslashes, `#`
//! comments), so shell quoting does not apply there: its values are
//! *validated* against what SLURM accepts for that option and refused
//! otherwise, with the flag and the value (escaped) named. Words of the
//! script body are shell words: each value is *single-quoted* the POSIX
//! way, inside which the shell expands nothing (`'` itself is written
//! `'\''`).

use std::path::Path;

use anyhow::{Result, bail};

/// `s` as one shell word: single-quoted, each `'` written `'\''`. The
/// shell reads it back as exactly `s`, newlines, `$(…)` and all.
pub(crate) fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// [`quote`] of a path (lossily, for display: a non-UTF-8 path is refused
/// by [`check_path`] before any script is written).
pub(crate) fn quote_path(p: &Path) -> String {
    quote(&p.display().to_string())
}

/// A partition name (`--partition`): SLURM names are letters, digits,
/// `_`, `.` and `-`; a comma separates several partitions.
pub(crate) fn check_partition(value: &str) -> Result<()> {
    let ok = |c: char| c.is_ascii_alphanumeric() || "_.,-".contains(c);
    if value.is_empty() || !value.chars().all(ok) {
        bail!(
            "--partition {value:?}: expected a SLURM partition name of letters, digits, _ . - \
             (a comma between several); it is written into an #SBATCH line"
        );
    }
    Ok(())
}

/// A wall-time limit (`--time`) in one of SLURM's formats: `M`, `M:S`,
/// `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S`, or `UNLIMITED`/`INFINITE`.
pub(crate) fn check_time(value: &str) -> Result<()> {
    let digits = |s: &str| !s.is_empty() && s.len() <= 9 && s.chars().all(|c| c.is_ascii_digit());
    let clock = |s: &str, max: usize| {
        let parts: Vec<&str> = s.split(':').collect();
        parts.len() <= max && parts.iter().all(|p| digits(p))
    };
    let ok = match value.split_once('-') {
        _ if ["unlimited", "infinite"].contains(&value.to_ascii_lowercase().as_str()) => true,
        Some((days, rest)) => digits(days) && clock(rest, 3),
        None => clock(value, 3),
    };
    if !ok {
        bail!(
            "--time {value:?}: expected a SLURM time limit: minutes, M:S, H:M:S, D-H, D-H:M, \
             D-H:M:S or UNLIMITED (e.g. 01:30:00 or 2-00:00:00)"
        );
    }
    Ok(())
}

/// A job name: the study's name, already letters, digits, `_` and `-`
/// (checked again here because it goes into an #SBATCH line).
pub(crate) fn check_job_name(name: &str) -> Result<()> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c))
    {
        bail!("study name {name:?}: a SLURM job name here is letters, digits, _ and -");
    }
    Ok(())
}

/// A value written as a word of the script body (a `--set`, the study
/// file's path): quoting keeps it one word, but a control character would
/// still split the script's line (a newline) or hide in it, so it is
/// refused, naming `flag`.
pub(crate) fn check_word(flag: &str, value: &str) -> Result<()> {
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        bail!(
            "{flag} {value:?}: holds {c:?}; a value written into a job script cannot hold control characters"
        );
    }
    Ok(())
}

/// A path written into an #SBATCH line (`--output`, under `flag`'s
/// folder): UTF-8, and none of what SLURM's own parser reads as syntax
/// (whitespace, quotes, `\`, `#`) or as a file-name pattern (`%`), and no
/// control character (a newline would end the directive).
pub(crate) fn check_path(flag: &str, path: &Path) -> Result<()> {
    let Some(s) = path.to_str() else {
        bail!("{flag} {path:?}: not UTF-8; a job script needs a UTF-8 path");
    };
    if let Some(c) = s
        .chars()
        .find(|c| c.is_control() || c.is_whitespace() || "\"'\\#%".contains(*c))
    {
        bail!(
            "{flag} {s:?}: holds {c:?}, which SLURM would read in the #SBATCH --output line \
             (whitespace, quotes, \\, #, % and control characters are refused); choose a \
             folder without it"
        );
    }
    Ok(())
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Values no script may run: a new line, `$(…)`, backquotes, a quote
    /// that ends the quoting, globs, `~`, an empty word, an option.
    pub(crate) const HOSTILE: [&str; 11] = [
        "'; touch pwned; '",
        "$(touch pwned)",
        "`touch pwned`",
        "a\"b\\c",
        "*",
        "~",
        "",
        "-n",
        "it's",
        "x=1 y=$HOME",
        "naïve \u{200b}",
    ];

    /// Each quoted word, read back by an independent shell (`sh -c
    /// 'printf "%s\0" WORDS'`), is exactly the value, and nothing ran.
    /// Catches a quote that is not escaped (`'` left bare, or `"` used).
    #[test]
    fn quoted_words_round_trip_through_sh() {
        let dir = tempfile::tempdir().unwrap();
        let values: Vec<&str> = HOSTILE
            .iter()
            .copied()
            .chain(["short\nrm -rf ~\t"])
            .collect();
        let words: Vec<String> = values.iter().map(|v| quote(v)).collect();
        let cmd = format!("printf '%s\\000' {}", words.join(" "));
        let o = std::process::Command::new("sh")
            .arg("-c")
            .arg(&cmd)
            .current_dir(dir.path())
            .env("HOME", dir.path())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let back: Vec<&[u8]> = o.stdout.split(|b| *b == 0).collect();
        let want: Vec<&[u8]> = values.iter().map(|v| v.as_bytes()).collect();
        assert_eq!(back[..back.len() - 1], want[..]);
        assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
    }

    /// Partition names and time limits SLURM takes pass; a newline, a
    /// space, a `;` or an empty value is refused, naming the flag and
    /// showing the value escaped. Catches a check that accepts any
    /// character (`all` become `any`) or forgets the empty value.
    #[test]
    fn directive_values_are_refused_by_name_when_slurm_would_not_take_them() {
        for ok in ["short", "gpu-v100_x.1", "a,b"] {
            check_partition(ok).unwrap();
        }
        for ok in [
            "30",
            "30:00",
            "01:00:00",
            "2-00",
            "2-12:30",
            "2-12:30:00",
            "UNLIMITED",
        ] {
            check_time(ok).unwrap();
        }
        for bad in ["short\nrm -rf ~", "a b", "a;b", ""] {
            let e = check_partition(bad).unwrap_err().to_string();
            assert!(e.starts_with(&format!("--partition {bad:?}: ")), "{e}");
        }
        let e = check_partition("short\nrm -rf ~").unwrap_err().to_string();
        assert!(e.contains(r#""short\nrm -rf ~""#), "escaped: {e}");
        for bad in [
            "01:00:00\nrm",
            "1::0",
            "abc",
            "1:2:3:4",
            "-1",
            "2-",
            "",
            "1 ",
        ] {
            let e = check_time(bad).unwrap_err().to_string();
            assert!(e.starts_with(&format!("--time {bad:?}: ")), "{e}");
        }
        check_word("--set", "data.noise='$(x)'").unwrap();
        let e = check_word("--set", "a=b\nrm -rf ~")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with(r#"--set "a=b\nrm -rf ~": holds '\n'"#), "{e}");
        check_job_name("flagship-1").unwrap();
        assert!(check_job_name("a\nb").is_err());
        check_path("--out", Path::new("/tmp/res/slurm")).unwrap();
        for bad in ["/tmp/a\nb", "/tmp/a b", "/tmp/%j", "/tmp/a#b", "/tmp/'"] {
            let e = check_path("--out", Path::new(bad)).unwrap_err().to_string();
            assert!(e.starts_with(&format!("--out {bad:?}: ")), "{e}");
        }
    }
}
