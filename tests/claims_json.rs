//! `claims.json` agrees with `report.md` in every shipped results folder:
//! each claim's verdict is its report.md heading's, each slice's verdict
//! its bullet's, and the slice count the bullets'. Both files are rendered
//! from the same verdicts; this catches one of them written from stale or
//! different data (a report written without claims.json, a slice left
//! out of one of them, a verdict worded differently).

use std::fs;
use std::path::Path;

use serde_json::Value;

/// report.md's section of claim `name`: from its `### name — verdict`
/// heading to the next heading.
fn claim_section<'a>(md: &'a str, name: &str, verdict: &str) -> Option<&'a str> {
    let heading = format!("\n### {name} — {verdict}\n");
    let start = md.find(&heading)? + heading.len();
    let rest = &md[start..];
    let end = rest.find("\n#").map_or(rest.len(), |i| i + 1);
    Some(&rest[..end])
}

fn check_folder(dir: &Path) -> usize {
    let md = fs::read_to_string(dir.join("report.md")).unwrap();
    let text = fs::read_to_string(dir.join("claims.json"))
        .unwrap_or_else(|e| panic!("{}: claims.json: {e}", dir.display()));
    let doc: Value = serde_json::from_str(&text).unwrap();
    let slices = doc["claims"].as_array().expect("a claims array");
    let mut names: Vec<&str> = Vec::new();
    for s in slices {
        let name = s["claim"].as_str().unwrap();
        let claim_verdict = s["claim_verdict"].as_str().unwrap();
        let section = claim_section(&md, name, claim_verdict).unwrap_or_else(|| {
            panic!(
                "{}: report.md has no `### {name} — {claim_verdict}`",
                dir.display()
            )
        });
        let bullet = format!(
            "- **{}** — {}",
            s["slice"].as_str().unwrap(),
            s["verdict"].as_str().unwrap()
        );
        assert!(
            section.lines().any(|l| l.starts_with(&bullet)),
            "{}: claim `{name}` has no line `{bullet}` in report.md",
            dir.display()
        );
        if !names.contains(&name) {
            names.push(name);
            let in_json = slices.iter().filter(|x| x["claim"] == name).count();
            let in_md = section.lines().filter(|l| l.starts_with("- **")).count();
            assert_eq!(in_json, in_md, "{}: slices of `{name}`", dir.display());
        }
    }
    names.len()
}

#[test]
fn claims_json_agrees_with_report_md_in_every_shipped_study() {
    let results = Path::new(env!("CARGO_MANIFEST_DIR")).join("results");
    let mut folders = 0;
    let mut claims = 0;
    for entry in fs::read_dir(&results).unwrap() {
        let dir = entry.unwrap().path();
        if dir.join("report.md").is_file() {
            folders += 1;
            claims += check_folder(&dir);
        }
    }
    let studies = fs::read_dir(results.with_file_name("experiments"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "toml")
        })
        .count();
    assert_eq!(folders, studies, "every shipped study has a results folder");
    assert_eq!(
        studies, 24,
        "the shipped studies (issue 26 added the two Fashion-MNIST ones, issue 27 search_luck)"
    );
    assert!(
        claims >= 37,
        "the shipped studies state at least 37 claims, got {claims}"
    );
}
