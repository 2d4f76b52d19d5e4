//! The layers run one way: every production source file's `crate::` paths
//! (and `super::` paths in a top-level module, which name the crate root)
//! name only modules below its own in `mlpsweep::LAYERS`. Reading the text
//! is enough: a `pub use` re-export is itself a path in the file that
//! re-exports, so it is checked where it is written. Test files (`tests.rs`,
//! `*_tests.rs`, `tests/`) are left out: fixtures may assemble the whole pipeline.
//! Catches any upward import, such as the store building a report or the
//! schema importing the halving algorithm (both were there).

use std::fs;
use std::path::{Path, PathBuf};

use mlpsweep::LAYERS;

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The top-level module a file belongs to (`src/report/plot/mod.rs` →
/// `report`); `None` for the crate roots.
fn module_of(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_string();
    (!matches!(name.as_str(), "lib" | "main")).then_some(name)
}

/// A test file: under a `tests/` folder, a `tests.rs`, or a `*_tests.rs`
/// (test modules split by subject, such as `train/eval_tests.rs`).
fn is_test(rel: &Path) -> bool {
    let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
    rel.components().any(|c| c.as_os_str() == "tests")
        || name == "tests.rs"
        || name.ends_with("_tests.rs")
}

/// The modules a line names through `crate::x` (and `super::x` when the
/// file is a top-level module's own file, whose parent is the root).
fn named(line: &str, top_level_file: bool) -> Vec<String> {
    let code = line.split("//").next().unwrap_or("");
    let mut out = Vec::new();
    let mut prefixes = vec!["crate::"];
    if top_level_file {
        prefixes.push("super::");
    }
    for prefix in prefixes {
        for (i, _) in code.match_indices(prefix) {
            let rest = &code[i + prefix.len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
    }
    out
}

#[test]
fn every_import_points_down_the_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let rank = |m: &str| LAYERS.iter().position(|l| *l == m);
    let mut upward = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap();
        let (Some(own), false) = (module_of(rel), is_test(rel)) else {
            continue;
        };
        let own_rank = rank(&own).unwrap_or_else(|| panic!("{own} is not in LAYERS"));
        let top_level_file = rel.components().count() == 1;
        let text = fs::read_to_string(&file).unwrap();
        let mut in_tests = false;
        for (n, line) in text.lines().enumerate() {
            // An inline `mod tests` at the end of a file is test code.
            if line.starts_with("#[cfg(test)]") {
                in_tests = true;
            }
            if in_tests {
                continue;
            }
            for m in named(line, top_level_file) {
                match rank(&m) {
                    Some(r) if r > own_rank => {
                        upward.push(format!("{}:{}: {own} uses {m}", rel.display(), n + 1))
                    }
                    _ => {}
                }
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports pointing up the layers:\n{}",
        upward.join("\n")
    );
}

/// The order names every top-level module of the library exactly once.
#[test]
fn the_layers_name_every_module_once() {
    let lib = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let mut declared: Vec<String> = lib
        .lines()
        .filter_map(|l| {
            let l = l
                .trim_start_matches("pub(crate) ")
                .trim_start_matches("pub ")
                .trim();
            l.strip_prefix("mod ")?
                .strip_suffix(';')
                .map(str::to_string)
        })
        .collect();
    declared.sort();
    let mut layers: Vec<String> = LAYERS.iter().map(|s| s.to_string()).collect();
    layers.sort();
    assert_eq!(declared, layers);
}
