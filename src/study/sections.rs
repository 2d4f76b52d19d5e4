//! The key table of the sections that are not swept: the top level,
//! `[replicates]`, `[search]`, a `[space]` distribution, `[search.halving]`,
//! `[report]` and each `[[claims]]`, one row per key in the same form as
//! `keys.rs` (type and range, default, one-line doc). Unknown-key errors,
//! `--set`, the readers ([`super::fields`]) and the key reference in
//! `docs/study-file.md` read these rows, so adding a key to any section is
//! one row here plus its use. A row's "applies" names the key of its
//! section that decides whether it means anything (`samples` needs a random
//! or Sobol `strategy`, `max_share` a `reference`), and the reader refuses
//! it elsewhere (`Fields::check_applies`); rules beyond that are the
//! section's code, checked where its values are read.

use toml::Value;

use super::MAX_NAME;
use super::claims::{EXPECTS, STATISTICS, STUCK_RELATIVE};
use super::fields::Section;
use super::grid::MAX_TRIALS;
use super::halving::SEED_STATISTICS;
use super::keys::{Applies, Default, Key, Type, Val, When};
use super::search::STRATEGIES;
use super::values::show;
use crate::metric::Metric;

/// The names of an enum's (name, value) list, for a choice row.
const fn names_of<T, const N: usize>(options: &[(&'static str, T)]) -> [&'static str; N] {
    let mut names = [""; N];
    let mut i = 0;
    while i < N {
        names[i] = options[i].0;
        i += 1;
    }
    names
}

const STRATEGY_NAMES: [&str; STRATEGIES.len()] = names_of(&STRATEGIES);
const SEED_STATISTIC_NAMES: [&str; SEED_STATISTICS.len()] = names_of(&SEED_STATISTICS);
const STUCK_NAMES: [&str; STUCK_RELATIVE.len()] = names_of(STUCK_RELATIVE);
const STATISTIC_NAMES: [&str; STATISTICS.len()] = names_of(STATISTICS);
const EXPECT_NAMES: [&str; EXPECTS.len()] = names_of(EXPECTS);
const SOURCE_NAMES: &[&str] = &["init", "order", "dropout", "data"];

/// `name`: it names the results folder, so it must stay a valid file name.
fn read_name(v: &Value) -> Result<Val, String> {
    match v {
        Value::String(s) if s.len() > MAX_NAME => Err(format!(
            "a name of at most {MAX_NAME} characters (it names the results folder), got {}",
            s.len()
        )),
        Value::String(s)
            if !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
        {
            Ok(Val::Text(s.clone()))
        }
        other => Err(format!(
            "expected a name of letters, digits, _ and -, got {}",
            show(other)
        )),
    }
}

/// A metric's name (claims and halving rank by one).
fn read_metric(v: &Value) -> Result<Val, String> {
    v.as_str()
        .and_then(Metric::parse)
        .map(|m| Val::Name(m.name()))
        .ok_or_else(|| {
            let names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
            format!(
                "unknown metric {}; expected one of: {}",
                show(v),
                names.join(", ")
            )
        })
}

/// `[search.halving] reference`: only the text; the folder is checked
/// before a run (the `reference` module).
fn read_reference(v: &Value) -> Result<Val, String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Ok(Val::Text(s.clone())),
        other => Err(format!(
            "expected the path of the full grid's results folder (relative to this study's results folder), got {}",
            show(other)
        )),
    }
}

const fn int(min: usize, max: usize) -> Type {
    Type::Int { min, max, hint: "" }
}
const fn row(
    section: &'static str,
    name: &'static str,
    ty: Type,
    default: Default,
    doc: &'static str,
) -> Key {
    Key {
        section,
        name,
        ty,
        default,
        applies: None,
        doc,
    }
}

/// A row that applies only as `applies` says.
const fn row_if(
    applies: Applies,
    section: &'static str,
    name: &'static str,
    ty: Type,
    default: Default,
    doc: &'static str,
) -> Key {
    Key {
        section,
        name,
        ty,
        default,
        applies: Some(applies),
        doc,
    }
}

/// The `[search]` keys of a random or Sobol search.
const DRAWN: Applies = Applies {
    decider: "strategy",
    when: When::Named(&["random", "sobol"]),
    doc: "strategy random, sobol",
    why: "a grid runs every point of [grid] and [[zip]]",
};

const SEEDS: &str = "a count >= 1 (seeds 0..n) or a list of distinct seeds";

/// The top level of a study file.
#[rustfmt::skip]
pub static TOP: Section = Section { path: "", unknown: "unknown key; the top level has: {known}", set: true, keys: &[
    row("", "name", Type::Special { read: read_name, allowed: "letters, digits, _ and -; at most 100 characters" }, Default::Required("missing: every study needs a name (it names the results folder)"),
        "names the results folder `results/<name>/`"),
    row("", "description", Type::Text, Default::Is(Val::Text(String::new())),
        "the study's question, printed at the top of the report"),
    row("", "seeds", Type::Own(SEEDS), Default::Unset("1 (seed 0)"),
        "replicate seeds: `10` means 0..9; replicate `r` uses seed `r` for the initial weights, the minibatch order and the dropout masks; the data set is fixed by `data.seed`"),
    row("", "replicates", Type::Table("a table of seeds per source"), Default::Unset("—"),
        "instead of `seeds`: a crossed design of independent sources of randomness (`[replicates]`)"),
    row("", "data", Type::Table("a table"), Default::Unset("—"), "the data set (`[data]`)"),
    row("", "model", Type::Table("a table"), Default::Unset("—"), "the network (`[model]`)"),
    row("", "train", Type::Table("a table"), Default::Unset("—"), "the training (`[train]`)"),
    row("", "grid", Type::Table("a table of lists"), Default::Unset("—"), "keys swept in a product (`[grid]`)"),
    row("", "zip", Type::Table("a list of tables of lists"), Default::Unset("—"), "keys swept together (`[[zip]]`)"),
    row("", "search", Type::Table("a table"), Default::Unset("—"), "draw configurations instead of listing them (`[search]`)"),
    row("", "space", Type::Table("a table of distributions"), Default::Unset("—"), "what a search draws (`[space]`)"),
    row("", "report", Type::Table("a table"), Default::Unset("—"), "report settings (`[report]`)"),
    row("", "claims", Type::Table("a list of tables"), Default::Unset("—"), "what the study expects (`[[claims]]`)"),
    row("", "settle", Type::Table("a table"), Default::Unset("—"), "add seeds only where a claim is still open (`[settle]`)"),
]};

/// `[replicates]`: one row per source, in `Source::ALL` order.
#[rustfmt::skip]
pub static REPLICATES: Section = Section { path: "replicates", unknown: "unknown source; [replicates] has: {known}", set: true, keys: &[
    row("replicates", SOURCE_NAMES[0], Type::Own(SEEDS), Default::Unset("held fixed (seed 0)"), "seeds of the initial weights"),
    row("replicates", SOURCE_NAMES[1], Type::Own(SEEDS), Default::Unset("held fixed (seed 0)"), "seeds of the minibatch order"),
    row("replicates", SOURCE_NAMES[2], Type::Own(SEEDS), Default::Unset("held fixed (seed 0)"), "seeds of the dropout masks"),
    row("replicates", SOURCE_NAMES[3], Type::Own(SEEDS), Default::Unset("held fixed (`data.seed`)"), "seeds of the data set drawn (generated kinds), or of a table's split and label noise"),
]};

/// `[search]`.
#[rustfmt::skip]
pub static SEARCH: Section = Section { path: "search", unknown: "unknown key; [search] has: {known}", set: true, keys: &[
    row("search", "strategy", Type::Choice(&STRATEGY_NAMES), Default::Is(Val::Name("grid")),
        "every point of `[grid]` × `[[zip]]`, independent uniform draws, or scrambled Sobol points"),
    row_if(DRAWN, "search", "samples", int(1, MAX_TRIALS), Default::Required("missing: a random or Sobol search needs samples, the number of configurations drawn"),
        "configurations drawn (Sobol: at most 65536)"),
    row_if(DRAWN, "search", "seed", int(0, u32::MAX as usize), Default::Is(Val::Int(0)),
        "the search's own seed"),
    row_if(DRAWN, "search", "blocks", int(1, MAX_TRIALS), Default::Unset("one search"),
        "random only: independent searches the draws are split into (a divisor of samples)"),
    row_if(Applies { decider: "blocks", when: When::Given, doc: "with `blocks`", why: "the grid is compared with the blocks of a random search: set search.blocks too" },
        "search", "grid", int(2, 1000), Default::Unset("no grid"),
        "levels per `[space]` key of the grid the blocks are compared with"),
    row_if(DRAWN, "search", "confirm", Type::Int { min: 0, max: super::confirm::MAX_CONFIRM, hint: " (fresh seeds the winner is retrained on)" }, Default::Is(Val::Int(0)),
        "fresh seeds (after the study's) the winner is retrained on, for the winner's curse; 0: none"),
    row_if(DRAWN, "search", "repeats", int(1, 1000), Default::Is(Val::Int(1)),
        "independent searches of `samples` points each: repeat `r` draws with search seed `seed + r`; the report gives the search's own variance"),
    row("search", "halving", Type::Table("a table"), Default::Unset("—"),
        "successive halving over the configurations (`[search.halving]`)"),
]};

/// A `[space]` key's distribution: `{ log_uniform = [1e-4, 1.0] }`.
#[rustfmt::skip]
pub static DISTRIBUTIONS: Section = Section { path: "space", unknown: "unknown distribution \"{name}\"; expected one of: {known}", set: false, keys: &[
    row("space", "uniform", Type::Own("[a, b], number keys"), Default::Unset("—"), "a + u·(b − a)"),
    row("space", "log_uniform", Type::Own("[a, b], number keys, 0 < a"), Default::Unset("—"), "exp(ln a + u·(ln b − ln a)): equal odds per decade"),
    row("space", "int_uniform", Type::Own("[a, b], integer keys"), Default::Unset("—"), "each integer of a..=b (both ends included) equally likely"),
    row("space", "int_log_uniform", Type::Own("[a, b], integer keys, 0 < a"), Default::Unset("—"), "a `log_uniform` draw rounded to the nearest integer"),
    row("space", "choice", Type::Own("[x, y, …], any key"), Default::Unset("—"), "each listed value equally likely"),
]};

/// `[search.halving]`.
#[rustfmt::skip]
pub static HALVING: Section = Section { path: "search.halving", unknown: "unknown key; [search.halving] has: {known}", set: true, keys: &[
    row("search.halving", "metric", Type::Special { read: read_metric, allowed: "a metric the study produces" }, Default::Is(Val::Name("val_loss")),
        "what configurations are ranked by (accuracies rank high-first)"),
    row("search.halving", "statistic", Type::Choice(&SEED_STATISTIC_NAMES), Default::Is(Val::Name("median")),
        "how a configuration's seeds are summarised"),
    row("search.halving", "min_epochs", int(1, 10_000_000), Default::Required("missing: halving needs min_epochs, the epochs of rung 0"),
        "budget of rung 0, in epochs (below `train.epochs`)"),
    row("search.halving", "eta", Type::Int { min: 2, max: 1_000_000, hint: " (each rung keeps the best 1/eta of the configurations)" }, Default::Is(Val::Int(3)),
        "growth of the budget and shrink of the field per rung"),
    row("search.halving", "reference", Type::Special { read: read_reference, allowed: "a results folder, relative to this study's" }, Default::Unset("no verdict"),
        "the full grid's results folder halving is judged against"),
    row_if(Applies { decider: "reference", when: When::Given, doc: "with `reference`", why: "a budget against the full grid needs search.halving.reference, the full grid's results folder" },
        "search.halving", "max_share", Type::Float { ok: |x| x > 0.0 && x <= 1.0, allowed: "a share of the full grid's training steps in (0, 1]" }, Default::Is(Val::Float(0.4)),
        "the share of the full grid's training steps halving may spend"),
]};

/// `[report]`.
#[rustfmt::skip]
pub static REPORT: Section = Section { path: "report", unknown: "unknown key; [report] has: {known}", set: true, keys: &[
    row("report", "stuck_delta", Type::Float { ok: |x| x >= 0.0, allowed: "a loss difference >= 0" }, Default::Is(Val::Float(0.1)),
        "a seed is stuck when its final train loss is this far above the best of `stuck_relative`"),
    row("report", "stuck_relative", Type::Choice(&STUCK_NAMES), Default::Is(Val::Name("config")),
        "whose best counts: the same configuration's seeds, the trials sharing the first swept axis's setting, or the whole study"),
    row("report", "level", Type::Float { ok: |x| x > 0.0 && x < 1.0, allowed: "a confidence level in (0, 1)" }, Default::Is(Val::Float(0.95)),
        "confidence level of intervals"),
    row("report", "bootstrap", int(100, 1_000_000), Default::Is(Val::Int(2000)),
        "bootstrap resamples per interval"),
    row("report", "target_acc", Type::Float { ok: |x| x > 0.0 && x <= 1.0, allowed: "an accuracy in (0, 1]" }, Default::Is(Val::Float(0.9)),
        "classification: the train accuracy `epochs_to_target` waits for"),
    row("report", "boundaries", Type::Table("a table of swept key → value"), Default::Unset("up to 16, evenly spaced"),
        "the configurations drawn in `boundaries.svg`"),
    row("report", "title", Type::Text, Default::Unset("the study's `name`"),
        "the heading of `report.md` and `summary.md` (the results folder keeps `name`)"),
]};

/// One `[[claims]]` table.
#[rustfmt::skip]
pub static CLAIM: Section = Section { path: "claims", unknown: "unknown key; a claim has: {known}", set: false, keys: &[
    row("claims", "name", Type::Text, Default::Required("missing: say what the claim claims"),
        "what the claim says (unique: the report and claims.json name it)"),
    row("claims", "metric", Type::Special { read: read_metric, allowed: "a metric the study produces" }, Default::Is(Val::Name("train_loss")),
        "the per-trial metric the claim is about"),
    row("claims", "statistic", Type::Choice(&STATISTIC_NAMES), Default::Is(Val::Name("mean")),
        "the statistic compared (see below which expectations each takes)"),
    row("claims", "along", Type::Text, Default::Unset("—"),
        "trends: the swept key the statistic should rise or fall along"),
    row("claims", "expect", Type::Choice(&EXPECT_NAMES), Default::Required("missing; expected one of: decreasing, increasing, less_than, greater_than, differs"),
        "the expectation (`differs` is two-sided)"),
    row("claims", "this", Type::Table("a table of swept key → value"), Default::Unset("—"),
        "comparisons: the first group"),
    row("claims", "than", Type::Table("a table of swept key → value"), Default::Unset("—"),
        "comparisons: the second group"),
    row("claims", "where", Type::Table("a table of swept key → value or list"), Default::Unset("every trial"),
        "only these trials take part (a list: one of its values)"),
    row("claims", "pool", Type::Bool, Default::Is(Val::Bool(false)),
        "pool the other axes instead of one verdict per slice"),
    row("claims", "tune", Type::Text, Default::Unset("—"),
        "a swept key each group takes its best setting of before comparing"),
    row("claims", "alpha", Type::Float { ok: |x| x > 0.0 && x < 0.5, allowed: "a significance level in (0, 0.5)" }, Default::Is(Val::Float(0.05)),
        "significance level of the tests"),
    row("claims", "gamma", Type::Float { ok: |x| x > 0.5 && x < 1.0, allowed: "a share in (0.5, 1): above 0.5, or a coin flip would count" }, Default::Unset("0.75"),
        "`probability_of_outperforming` only: the share of paired runs a meaningful win must be shown to exceed (Bouthillier et al. 2021's γ)"),
    row_if(Applies { decider: "statistic", when: When::Named(&["share"]), doc: "statistic share", why: "it names the source of randomness whose share of the variance a share claim judges" },
        "claims", "source", Type::Choice(SOURCE_NAMES), Default::Unset("— (required by share)"),
        "the source of randomness whose variance share is judged"),
]};

/// `[settle]`: the ranges that depend on the study's seeds are checked
/// where the section is read (`settle.rs`).
#[rustfmt::skip]
pub static SETTLE: Section = Section { path: "settle", unknown: "unknown key; [settle] has: {known}", set: true, keys: &[
    row("settle", "max_seeds", int(2, 100_000), Default::Required("missing: settle needs max_seeds, the seeds per configuration at the cap"),
        "the seeds of each configuration at the cap, the study's own included (above `seeds`)"),
    row("settle", "round", int(1, 100_000), Default::Unset("the study's seed count, or what is left to the cap"),
        "seeds added per round to each configuration an open claim slice compares (at most `max_seeds` − seeds)"),
    row("settle", "rho", Type::Float { ok: |x| (0.1..=20.0).contains(&x), allowed: "an exponent in [0.1, 20]" }, Default::Is(Val::Float(3.0)),
        "exponent ρ of the α-spending function α·t^ρ (3: close to O'Brien–Fleming, little spent early; 1: close to Pocock)"),
]};

/// Every section, in the order of `docs/study-file.md`.
pub static SECTIONS: &[&Section] = &[
    &TOP,
    &REPLICATES,
    &SEARCH,
    &DISTRIBUTIONS,
    &HALVING,
    &REPORT,
    &CLAIM,
    &SETTLE,
];

/// The section `--set path.key=value` sets a key of, and the key: the
/// longest section path that `key` starts with.
pub fn settable(key: &str) -> Option<(&'static Section, &str)> {
    SECTIONS
        .iter()
        .filter(|s| s.set && !s.path.is_empty())
        .filter_map(|s| Some((*s, key.strip_prefix(s.path)?.strip_prefix('.')?)))
        .max_by_key(|(s, _)| s.path.len())
}

#[cfg(test)]
mod tests;
