//! `[report]` and `[[claims]]`: what the study expects, read into typed
//! specs. The report stage evaluates them (`report/claims.rs`).
//!
//! ```toml
//! [[claims]]
//! name = "spread of final loss shrinks with width"
//! metric = "train_loss"       # a column of trials.csv
//! statistic = "std"           # mean | std | median | iqr | min | max | stuck_fraction | collapsed_fraction | unstable_fraction | probability_of_improvement | probability_of_outperforming | share | ensemble | ensemble_gain | best_of_block
//! along = "width"             # a swept key; for increasing / decreasing
//! expect = "decreasing"       # decreasing | increasing | less_than | greater_than | differs
//! # less_than / greater_than compare two groups instead of a trend:
//! # this = { activation = "relu" }
//! # than = { activation = "tanh" }
//! # differs: two-sided, a trend with `along`, a comparison with this/than
//! # where = { depth = 2 }     # keep only these trials; { lr = [0.01, 0.1] }: one of
//! # pool = false              # true: pool the other axes instead of one verdict per slice
//! # gamma = 0.75              # probability_of_outperforming: the share a meaningful win exceeds
//! ```
//!
//! A claim no run of the study could judge is refused here, naming its
//! key (`claims/checks.rs`); `claims/shape.rs` checks which keys a claim's
//! expectation and statistic allow, `claims/select.rs` reads `this`,
//! `than` and `where`.

use toml::Value;

use super::fields::Fields;
use super::sections::{CLAIM, REPORT};
use super::{Axis, KeyError, Setting, Source, key_err};
use crate::metric::Metric;
pub use crate::stats::Statistic;

mod checks;
mod outperforming;
mod select;
mod shape;
#[cfg(test)]
mod tests;

use select::select;
pub use select::{Allowed, Filter, Selection, matches};

/// The statistics a claim may name (every one but `iqm`), in the order
/// errors and the docs list them.
pub(super) const STATISTICS: &[(&str, Statistic)] =
    &Statistic::named(Statistic::all_but::<15>(Statistic::Iqm));

/// What a claim expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// The statistic falls as the `along` axis grows.
    Decreasing,
    /// The statistic rises as the `along` axis grows.
    Increasing,
    /// The `this` group's statistic is below the `than` group's.
    LessThan,
    /// The `this` group's statistic is above the `than` group's.
    GreaterThan,
    /// Two-sided: the statistic changes along `along`, or differs between
    /// `this` and `than`, either way. It holds or is inconclusive, never
    /// fails.
    Differs,
}

/// The names the study file gives them.
pub(super) const EXPECTS: &[(&str, Expect)] = &[
    ("decreasing", Expect::Decreasing),
    ("increasing", Expect::Increasing),
    ("less_than", Expect::LessThan),
    ("greater_than", Expect::GreaterThan),
    ("differs", Expect::Differs),
];

impl Expect {
    /// The expectation's name as written in a study file.
    pub fn name(self) -> &'static str {
        EXPECTS
            .iter()
            .find(|(_, e)| *e == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }

    /// The direction the claim expects: +1 (increasing, greater_than), −1
    /// (decreasing, less_than), `None` for the two-sided `differs`.
    pub fn sign(self) -> Option<f64> {
        match self {
            Expect::Increasing | Expect::GreaterThan => Some(1.0),
            Expect::Decreasing | Expect::LessThan => Some(-1.0),
            Expect::Differs => None,
        }
    }
}

/// One claim, checked against the axes of its study.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimSpec {
    /// What the claim says, in words.
    pub name: String,
    /// The per-trial metric the claim is about.
    pub metric: Metric,
    /// The statistic compared across groups.
    pub statistic: Statistic,
    /// The expectation.
    pub expect: Expect,
    /// The swept key of a trend claim (canonical); `None` for a
    /// comparison (`this`/`than`, or `ensemble_gain` against 0).
    pub along: Option<String>,
    /// The first group of a comparison: (canonical key, value).
    pub this: Vec<(String, Setting)>,
    /// The second group of a comparison.
    pub than: Vec<(String, Setting)>,
    /// Only trials with these settings take part (`where`): each key one
    /// of its listed values.
    pub filter: Filter,
    /// Pool the other axes instead of giving one verdict per slice.
    pub pool: bool,
    /// A swept key (such as the learning rate) over which each group takes
    /// its best setting before the comparison: lowest mean for losses and
    /// epochs, highest for accuracies.
    pub tune: Option<String>,
    /// Significance level of the tests.
    pub alpha: f64,
    /// For `probability_of_outperforming`: the share of paired runs a win
    /// must be shown to exceed to count as meaningful (0.75 by default,
    /// Bouthillier et al.'s γ).
    pub gamma: f64,
    /// The source of randomness whose variance share a `share` claim is
    /// about.
    pub source: Option<Source>,
}

impl ClaimSpec {
    /// Whether its groups are a search's arms, the random blocks (`this`)
    /// and the grid (`than`): `best_of_block`, and
    /// `probability_of_outperforming` without `this`, `than` or `along`
    /// (which the study accepts only with blocks and a grid).
    pub fn compares_arms(&self) -> bool {
        let bare = self.this.is_empty() && self.than.is_empty() && self.along.is_none();
        self.statistic == Statistic::BestOfBlock
            || (self.statistic == Statistic::ProbabilityOfOutperforming && bare)
    }
}

/// Whose best final train loss a trial is compared with to call it stuck
/// (`[report] stuck_relative`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StuckRelative {
    /// The best trial of the whole study.
    Study,
    /// The best trial sharing the trial's setting of the first swept axis.
    Slice,
    /// The best seed of the trial's own configuration.
    Config,
}

/// The names the study file gives them.
pub(super) const STUCK_RELATIVE: &[(&str, StuckRelative)] = &[
    ("study", StuckRelative::Study),
    ("slice", StuckRelative::Slice),
    ("config", StuckRelative::Config),
];

impl StuckRelative {
    /// The name as written in a study file.
    pub fn name(self) -> &'static str {
        STUCK_RELATIVE
            .iter()
            .find(|(_, s)| *s == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }
}

/// The `[report]` section and the claims.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSpec {
    /// A trial is stuck when its final train loss is more than this above
    /// the lowest final train loss of the trials it is compared with
    /// (`stuck_relative`).
    pub stuck_delta: f64,
    /// Which trials' best loss `stuck_delta` counts from.
    pub stuck_relative: StuckRelative,
    /// Confidence level of intervals (t intervals of means, bootstrap intervals).
    pub level: f64,
    /// Bootstrap resamples per interval.
    pub bootstrap: usize,
    /// Train accuracy that `epochs_to_target` waits for.
    pub target_acc: f64,
    /// Which configurations get decision-region panels (swept key → value);
    /// empty: up to 16, evenly spaced over the plan.
    pub boundaries: Vec<(String, Setting)>,
    /// The heading of `report.md` and `summary.md`; `None`: the study's name.
    pub title: Option<String>,
    /// The study's claims, in file order.
    pub claims: Vec<ClaimSpec>,
}

impl Default for ReportSpec {
    fn default() -> Self {
        ReportSpec {
            stuck_delta: 0.1,
            stuck_relative: StuckRelative::Config,
            level: 0.95,
            bootstrap: 2000,
            target_acc: 0.9,
            boundaries: Vec::new(),
            title: None,
            claims: Vec::new(),
        }
    }
}

/// What the rest of the study file says that some claims depend on.
#[derive(Debug, Clone, Copy)]
pub(super) struct Facts {
    /// Whether the study's search has blocks and a grid (`best_of_block`).
    pub grid_arm: bool,
    /// Which metrics the study produces (`ensemble_gain` needs a
    /// validation split; claims on a metric never produced are refused).
    pub produced: super::Produced,
    /// Replicates (seeds) of each configuration: spread statistics and
    /// comparisons need two trials a group.
    pub replicates: usize,
}

/// Read `[report]` and `[[claims]]`. `canonical` resolves key names;
/// `axes` are the study's swept axes; `regression` forbids accuracy metrics.
pub(super) fn parse(
    report: Option<&Value>,
    claims: Option<&Value>,
    axes: &[Axis],
    canonical: impl Fn(&str) -> Result<String, String>,
    regression: bool,
    varying: &[Source],
    facts: Facts,
) -> Result<ReportSpec, KeyError> {
    let mut spec = ReportSpec::default();
    if let Some(r) = report {
        report_keys(&mut spec, r, axes, &canonical)?;
    }
    let Some(claims) = claims else {
        return Ok(spec);
    };
    let Value::Array(list) = claims else {
        return Err(key_err("claims", "expected [[claims]] tables"));
    };
    for (i, c) in list.iter().enumerate() {
        let Value::Table(t) = c else {
            return Err(key_err(format!("claims[{i}]"), "expected a table"));
        };
        let claim = Claim {
            t: CLAIM.fields(t, format!("claims[{i}]."))?,
            i,
            axes,
            varying,
            facts,
            canonical: &canonical,
        };
        let parsed = claim.parse(regression)?;
        claim.judgeable(&parsed, spec.stuck_relative)?;
        claim.unique_name(&parsed.name, &spec.claims)?;
        spec.claims.push(parsed);
    }
    Ok(spec)
}

/// The keys of `[report]`.
fn report_keys(
    spec: &mut ReportSpec,
    r: &Value,
    axes: &[Axis],
    canonical: &dyn Fn(&str) -> Result<String, String>,
) -> Result<(), KeyError> {
    let f = REPORT.table(Some(r))?.expect("a value was given");
    spec.stuck_delta = f.float("stuck_delta")?;
    spec.stuck_relative = f.choice("stuck_relative", STUCK_RELATIVE)?;
    spec.level = f.float("level")?;
    spec.bootstrap = f.int("bootstrap")?;
    spec.target_acc = f.float("target_acc")?;
    spec.title = f.text("title")?;
    if let Some(v) = f.raw("boundaries") {
        spec.boundaries = select(Some(v), &f.key("boundaries"), axes, canonical)?;
    }
    Ok(())
}

/// One `[[claims]]` table being read: its keys, its position, the axes.
struct Claim<'a> {
    t: Fields<'a>,
    i: usize,
    axes: &'a [Axis],
    varying: &'a [Source],
    /// What the rest of the study says.
    facts: Facts,
    canonical: &'a dyn Fn(&str) -> Result<String, String>,
}

impl Claim<'_> {
    fn at(&self, k: &str) -> String {
        format!("claims[{}].{k}", self.i)
    }

    fn string(&self, k: &str) -> Result<Option<String>, KeyError> {
        self.t.text(k)
    }

    /// A swept key named by `key`, found at `k`.
    fn swept(&self, key: &str, k: &str) -> Result<String, KeyError> {
        let canon = (self.canonical)(key).map_err(|m| key_err(self.at(k), m))?;
        if !self.axes.iter().any(|a| a.keys.contains(&canon)) {
            return Err(key_err(
                self.at(k),
                format!(
                    "{canon} is not swept; a claim can only be about keys in [grid] or [[zip]]"
                ),
            ));
        }
        Ok(canon)
    }

    fn selection(&self, k: &str) -> Result<Selection, KeyError> {
        select(self.t.raw(k), &self.at(k), self.axes, self.canonical)
    }

    fn parse(&self, regression: bool) -> Result<ClaimSpec, KeyError> {
        let name = self
            .string("name")?
            .ok_or_else(|| key_err(self.at("name"), "missing: say what the claim claims"))?;
        if name.trim().is_empty() {
            return Err(key_err(
                self.at("name"),
                "empty: say what the claim claims (the report and claims.json name it)",
            ));
        }
        let metric = self.metric(regression)?;
        let statistic = self.t.choice("statistic", STATISTICS)?;
        let expect = self.t.choice("expect", EXPECTS)?;
        let (this, than) = (self.selection("this")?, self.selection("than")?);
        let filter = select::select_where(
            self.t.raw("where"),
            &self.at("where"),
            self.axes,
            self.canonical,
        )?;
        let along = match self.string("along")? {
            Some(a) => Some(self.swept(&a, "along")?),
            None => None,
        };
        // probability_of_outperforming without groups, in a study with
        // arms, compares the arms' tuned results (`report/claims/arms.rs`).
        let arms_pair = statistic == Statistic::ProbabilityOfOutperforming
            && self.facts.grid_arm
            && this.is_empty()
            && than.is_empty()
            && along.is_none();
        if arms_pair {
            self.check_arms_pair(expect)?;
        } else if statistic == Statistic::BestOfBlock {
            let given = [
                ("this", !this.is_empty()),
                ("than", !than.is_empty()),
                ("along", along.is_some()),
                ("tune", self.t.given("tune")),
            ];
            // Differs has no side to put the random blocks on.
            let one_sided = matches!(expect, Expect::LessThan | Expect::GreaterThan);
            super::arms::check_claim(self.facts.grid_arm, !one_sided, &given)
                .map_err(|(k, m)| key_err(self.at(k), m))?;
        } else if statistic == Statistic::EnsembleGain {
            self.check_gain(metric, expect, along.is_some(), &this, &than)?;
        } else {
            self.check_shape(expect, along.is_some(), &this, &than)?;
        }
        if statistic == Statistic::ProbabilityOfImprovement && along.is_some() {
            return Err(key_err(
                self.at("statistic"),
                "probability_of_improvement compares two groups seed pair by seed pair; \
                 it needs expect = \"less_than\", \"greater_than\" or \"differs\" with `this` and `than`",
            ));
        }
        let gamma = self.gamma(statistic, along.is_some())?;
        if statistic == Statistic::Ensemble {
            if along.is_none() {
                return Err(key_err(
                    self.at("statistic"),
                    "ensemble is one value per configuration, judged along an axis: \
                     use expect = \"increasing\", \"decreasing\" or \"differs\" with `along`",
                ));
            }
            if !matches!(metric, Metric::ValLoss | Metric::ValAcc) {
                return Err(key_err(
                    self.at("metric"),
                    format!("{metric} has no ensemble; ensemble claims take val_loss or val_acc"),
                ));
            }
        }
        let pool = self.t.flag("pool")?;
        let alpha = self.t.float("alpha")?;
        if pool && statistic == Statistic::EnsembleGain {
            return Err(key_err(
                self.at("pool"),
                "pool = true mixes several configurations, whose seeds make no one ensemble; \
                 ensemble_gain is judged per configuration (use `where` to pick some)",
            ));
        }
        let tune = self.tune(&along, &this, &filter)?;
        let source = self.source(statistic, along.is_some(), metric)?;
        Ok(ClaimSpec {
            name,
            metric,
            statistic,
            expect,
            along,
            this,
            than,
            filter,
            pool,
            tune,
            alpha,
            source,
            gamma,
        })
    }
}
