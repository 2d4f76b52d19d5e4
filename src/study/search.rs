//! `[search]` and `[space]`: configurations drawn instead of listed.
//!
//! Input: the two tables. Output: a [`Search`] whose [`Search::axis`] is
//! one more [`Axis`], innermost among the axes, whose points are the drawn
//! points (like a `[[zip]]` of every `[space]` key). Crossing with `[grid]`
//! and `[[zip]]`, the plan, ids, resume, reports and claims then need
//! nothing new.
//!
//! Point `i` depends on (strategy, search seed, `i`, the space) only, never
//! on `samples`: growing `samples` keeps the earlier points (prefix
//! stability), so a grown search resumes and trains only the new ones.
//! Random search draws point `i` from its own generator
//! ([`crate::streams::search_rng`]), one uniform per key in `[space]` order;
//! Sobol search takes dimension `d` (the key's position) of point `i` of a
//! scrambled (Owen) Sobol sequence (`sobol_burley`). Each uniform `u` in
//! [0, 1) becomes a value by the key's distribution ([`Dist::value`]).
//! Sampled values are stored exactly: they are config values, so ids hash
//! them as they are.

use toml::{Table, Value};

use super::arms::{Arm, Arms};
use super::error::{KeyError, key_err};
use super::grid::Axis;
use super::keys::{self, Type};
use super::resolve::read;
use super::sections::{DISTRIBUTIONS, SEARCH};
use super::values::{same_value, show, type_name};

/// How configurations are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Every point of `[grid]` × `[[zip]]` (the default).
    Grid,
    /// Independent uniform draws, one generator per point.
    Random,
    /// Scrambled (Owen) Sobol points: quasi-random, more even than random.
    Sobol,
}

impl Strategy {
    /// The name in the study file.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Grid => "grid",
            Strategy::Random => "random",
            Strategy::Sobol => "sobol",
        }
    }
}

/// A distribution of one `[space]` key.
#[derive(Debug, Clone, PartialEq)]
pub enum Dist {
    /// `uniform = [a, b]`: a + u·(b − a).
    Uniform(f64, f64),
    /// `log_uniform = [a, b]`, 0 < a: exp(ln a + u·(ln b − ln a)).
    LogUniform(f64, f64),
    /// `int_uniform = [a, b]`: each integer of a..=b equally likely.
    IntUniform(i64, i64),
    /// `int_log_uniform = [a, b]`, 0 < a: a log-uniform draw, rounded.
    IntLogUniform(i64, i64),
    /// `choice = [x, y, ...]`: each value equally likely.
    Choice(Vec<Value>),
}

/// Most points a Sobol search can draw (`sobol_burley`'s sequence length).
pub const MAX_SOBOL_SAMPLES: usize = 1 << 16;
/// Most `[space]` keys a Sobol search can have (its dimensions).
pub const MAX_SOBOL_KEYS: usize = sobol_burley::NUM_DIMENSIONS as usize;

impl Dist {
    /// The value for a uniform `u` in [0, 1). Results are kept inside the
    /// bounds (a rounded `exp` may step one ulp past them).
    pub fn value(&self, u: f64) -> Value {
        let log = |a: f64, b: f64| (a.ln() + u * (b.ln() - a.ln())).exp();
        match self {
            Dist::Uniform(a, b) => Value::Float((a + u * (b - a)).clamp(*a, *b)),
            Dist::LogUniform(a, b) => Value::Float(log(*a, *b).clamp(*a, *b)),
            Dist::IntUniform(a, b) => {
                let n = (b - a + 1) as f64;
                Value::Integer((a + (u * n).floor() as i64).min(*b))
            }
            Dist::IntLogUniform(a, b) => {
                Value::Integer((log(*a as f64, *b as f64).round() as i64).clamp(*a, *b))
            }
            Dist::Choice(values) => {
                let i = ((u * values.len() as f64).floor() as usize).min(values.len() - 1);
                values[i].clone()
            }
        }
    }

    /// `log_uniform [0.0001, 1]`: for the report.
    pub fn describe(&self) -> String {
        let pair = |name: &str, a: String, b: String| format!("{name} [{a}, {b}]");
        match self {
            Dist::Uniform(a, b) => pair("uniform", a.to_string(), b.to_string()),
            Dist::LogUniform(a, b) => pair("log_uniform", a.to_string(), b.to_string()),
            Dist::IntUniform(a, b) => pair("int_uniform", a.to_string(), b.to_string()),
            Dist::IntLogUniform(a, b) => pair("int_log_uniform", a.to_string(), b.to_string()),
            Dist::Choice(v) => format!(
                "choice {{{}}}",
                v.iter().map(show).collect::<Vec<_>>().join(", ")
            ),
        }
    }
}

/// A random or Sobol search: what to draw and how many.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    /// Random or Sobol (never grid: a grid study has no `Search`).
    pub strategy: Strategy,
    /// Points drawn.
    pub samples: usize,
    /// The search's own seed (0..=u32::MAX).
    pub seed: u64,
    /// (canonical key, distribution) in `[space]` order.
    pub space: Vec<(String, Dist)>,
    /// The keys as the file wrote them, for errors (`space.lr`).
    pub paths: Vec<String>,
    /// `blocks` and `grid`: independent searches and their comparison grid
    /// (`study/arms.rs`).
    pub arms: Option<Arms>,
    /// `confirm`: fresh seeds the winner is retrained on after the search
    /// (`study/confirm.rs`); 0: none.
    pub confirm: usize,
    /// Independent searches, repeat `r` with seed `seed + r`
    /// (`study/repeats.rs`); 1 without `repeats`.
    pub repeats: usize,
}

impl Search {
    /// The uniforms of point `i`, one per key in `[space]` order.
    pub fn uniforms(&self, i: usize) -> Vec<f64> {
        unit_point(self.strategy, self.seed, i, self.space.len())
    }

    /// Point `i`: one value per key.
    pub fn point(&self, i: usize) -> Vec<Value> {
        self.point_of(0, i)
    }

    /// Point `i` of repeat `r`, drawn with search seed `seed + r` (a
    /// Sobol scramble seed takes its low 32 bits).
    pub fn point_of(&self, r: usize, i: usize) -> Vec<Value> {
        unit_point(self.strategy, self.seed + r as u64, i, self.space.len())
            .into_iter()
            .zip(&self.space)
            .map(|(u, (_, dist))| dist.value(u))
            .collect()
    }

    /// The repeat of position `i` on the search axis; `None` with one
    /// repeat.
    pub fn repeat(&self, i: usize) -> Option<usize> {
        (self.repeats > 1 && i < self.repeats * self.samples).then(|| i / self.samples)
    }

    /// The axis of the drawn points (every repeat's, in order), then the
    /// comparison grid's if any.
    pub fn axis(&self) -> Axis {
        let mut points: Vec<Vec<Value>> = (0..self.repeats)
            .flat_map(|r| (0..self.samples).map(move |i| (r, i)))
            .map(|(r, i)| self.point_of(r, i))
            .collect();
        if let Some(arms) = &self.arms {
            points.extend(arms.grid_points(&self.space));
        }
        Axis {
            keys: self.space.iter().map(|(k, _)| k.clone()).collect(),
            points,
            sampled: true,
        }
    }

    /// The arm of position `i` on the search axis; `None` without blocks.
    pub fn arm(&self, i: usize) -> Option<Arm> {
        self.arms.as_ref().map(|a| a.arm(i))
    }

    /// Whether the search has blocks and a grid to compare them with.
    pub fn has_grid_arm(&self) -> bool {
        self.arms.as_ref().is_some_and(|a| a.grid.is_some())
    }

    /// `64 random points (seed 0): lr log_uniform [0.0001, 1], ...`.
    pub fn describe(&self) -> String {
        let keys: Vec<String> = self
            .space
            .iter()
            .map(|(k, d)| format!("`{k}` {}", d.describe()))
            .collect();
        let arms = match &self.arms {
            None => String::new(),
            Some(a) => {
                let grid = a.grid.map_or(String::new(), |k| {
                    format!(
                        ", against a grid of {k} levels per key ({} points)",
                        a.per_block
                    )
                });
                format!(" in {} blocks of {}{grid}", a.blocks, a.per_block)
            }
        };
        let seed = match self.repeats {
            1 => format!("seed {}", self.seed),
            r => format!(
                "repeated {r} times, seeds {}..{}",
                self.seed,
                self.seed + r as u64 - 1
            ),
        };
        format!(
            "{} {} points ({seed}){arms} of {}",
            self.samples,
            self.strategy.name(),
            keys.join(", ")
        )
    }
}

/// Point `i` of `dims` uniforms in [0, 1) under `strategy` and `seed`.
/// Random: 53-bit uniforms from the top bits of successive `u64`s of the
/// point's own generator (written out, not `rand`'s float sampler, so the
/// values, and the ids that hash them, depend only on ChaCha8). Sobol:
/// `sobol_burley::sample(i, d, seed)`, an f32 on a 2^-24 lattice.
pub fn unit_point(strategy: Strategy, seed: u64, i: usize, dims: usize) -> Vec<f64> {
    match strategy {
        Strategy::Grid => unreachable!("a grid draws nothing"),
        Strategy::Random => {
            use rand::RngCore;
            let mut rng = crate::streams::search_rng(seed, i as u64);
            (0..dims)
                .map(|_| (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64))
                .collect()
        }
        Strategy::Sobol => (0..dims)
            .map(|d| f64::from(sobol_burley::sample(i as u32, d as u32, seed as u32)))
            .collect(),
    }
}

/// The strategies, as the file names them.
pub const STRATEGIES: [(&str, Strategy); 3] = [
    ("grid", Strategy::Grid),
    ("random", Strategy::Random),
    ("sobol", Strategy::Sobol),
];

/// Read `[search]` and `[space]`; `None` for a grid study. Every rule that
/// ties them together is checked here, naming the key at fault.
pub fn parse(search: Option<&Value>, space: Option<&Value>) -> Result<Option<Search>, KeyError> {
    let empty = Table::new();
    let table = match SEARCH.table(search)? {
        Some(f) => f,
        None => SEARCH.fields(&empty, "search.")?,
    };
    let strategy = table.choice("strategy", &STRATEGIES)?;
    table.check_applies()?;
    if strategy == Strategy::Grid {
        if space.is_some() {
            return Err(key_err(
                "space",
                "[space] is drawn from only with [search] strategy = \"random\" or \"sobol\"; add that, or list values under [grid]",
            ));
        }
        return Ok(None);
    }
    let Some(space) = space else {
        return Err(key_err(
            "search.strategy",
            format!(
                "strategy = \"{}\" draws from [space], but the study has no [space] table",
                strategy.name()
            ),
        ));
    };
    let samples = match strategy {
        Strategy::Sobol => table.int_to("samples", MAX_SOBOL_SAMPLES, "")?,
        _ => Some(table.int("samples")?),
    }
    .expect("samples is required");
    let seed = table.int("seed")? as u64;
    let (keys, paths) = space_keys(space, strategy)?;
    let arms = super::arms::parse(&table, strategy, samples, &keys, &paths)?;
    let reference = search
        .and_then(|s| s.get("halving"))
        .is_some_and(|h| h.get("reference").is_some());
    let repeats = super::repeats::parse(&table, arms.as_ref(), reference)?;
    Ok(Some(Search {
        strategy,
        samples,
        seed,
        space: keys,
        paths,
        arms,
        confirm: table.int("confirm")?,
        repeats,
    }))
}

/// `[space]`: each key once, as (canonical key, distribution) and the path
/// the file wrote it at; at least one key, and no more than Sobol draws.
#[allow(clippy::type_complexity)]
fn space_keys(
    space: &Value,
    strategy: Strategy,
) -> Result<(Vec<(String, Dist)>, Vec<String>), KeyError> {
    let Value::Table(space) = space else {
        return Err(key_err(
            "space",
            "expected a table of key = { distribution = ... }",
        ));
    };
    let mut keys: Vec<(String, Dist)> = Vec::new();
    let mut paths = Vec::new();
    for (key, v) in flatten(space, "") {
        let path = format!("space.{key}");
        let canon = keys::canonical(&key).map_err(|m| key_err(&path, m))?;
        if keys.iter().any(|(k, _)| *k == canon) {
            return Err(key_err(&path, format!("{canon} is in [space] twice")));
        }
        let dist = dist(&v, &path, &canon)?;
        keys.push((canon, dist));
        paths.push(path);
    }
    if keys.is_empty() {
        return Err(key_err("space", "empty [space]: nothing to draw"));
    }
    if strategy == Strategy::Sobol && keys.len() > MAX_SOBOL_KEYS {
        return Err(key_err(
            "space",
            format!(
                "{} keys; a Sobol search draws at most {MAX_SOBOL_KEYS}",
                keys.len()
            ),
        ));
    }
    Ok((keys, paths))
}

/// `[space]` flattened: `lr = {..}`, `"train.lr" = {..}` and a nested
/// `[space.train]` table all become (key, distribution table). A table is
/// a distribution unless its key names a section.
fn flatten(t: &Table, prefix: &str) -> Vec<(String, Value)> {
    super::grid::flatten_where(t, prefix, &|prefix, k| {
        prefix.is_empty() && keys::SECTIONS.contains(&k)
    })
}

/// One key's distribution, checked against the key's type: float
/// distributions on number keys, integer ones on integer keys, and every
/// bound or choice a value the key accepts.
fn dist(v: &Value, path: &str, canon: &str) -> Result<Dist, KeyError> {
    let err = |m: String| key_err(path, m);
    let example = "{ log_uniform = [1e-4, 1.0] }";
    let Value::Table(t) = v else {
        return Err(err(format!(
            "expected a distribution such as {example}, got {} {}",
            type_name(v),
            show(v)
        )));
    };
    let mut entries = t.iter();
    let (Some((name, arg)), None) = (entries.next(), entries.next()) else {
        return Err(err(format!(
            "expected one distribution such as {example}, got {} keys",
            t.len()
        )));
    };
    // The distribution's name is a row of the table; the rest is its reader.
    DISTRIBUTIONS
        .fields(t, format!("{path}."))
        .map_err(|e| err(e.message))?;
    let key = Drawn {
        key: &keys::KEYS[keys::index(canon).expect("canonical keys are in the table")],
        path,
        canon,
        name,
    };
    match name.as_str() {
        "uniform" | "log_uniform" => key.real(arg),
        "int_uniform" | "int_log_uniform" => key.integer(arg),
        _ => key.choice(arg),
    }
}

/// A `[space]` key and the distribution it is drawn from, being read.
struct Drawn<'a> {
    key: &'static keys::Key,
    path: &'a str,
    canon: &'a str,
    name: &'a str,
}

impl Drawn<'_> {
    fn err(&self, m: String) -> KeyError {
        key_err(self.path, m)
    }

    /// Whether the key takes `x` (its error says why not).
    fn accepts(&self, x: &Value) -> Result<(), String> {
        read(&self.key.ty, x).map(|_| ())
    }

    fn bound(&self, x: &Value) -> Result<(), KeyError> {
        self.accepts(x)
            .map_err(|m| self.err(format!("{} bound {}: {m}", self.name, show(x))))
    }

    /// Refuse a distribution drawing `what` (`real numbers`) for a key
    /// that does not take `sample`.
    fn suits(&self, fits: bool, sample: Value, what: &str) -> Result<(), KeyError> {
        let special = matches!(self.key.ty, Type::Special { .. });
        if fits || special && self.accepts(&sample).is_ok() {
            return Ok(());
        }
        Err(self.err(format!(
            "{} draws {what}, but {} takes {}; use {}",
            self.name,
            self.canon,
            takes(&self.key.ty),
            suggest(&self.key.ty)
        )))
    }

    /// `uniform` and `log_uniform`.
    fn real(&self, arg: &Value) -> Result<Dist, KeyError> {
        let fits = matches!(self.key.ty, Type::Float { .. });
        self.suits(fits, Value::Float(0.5), "real numbers")?;
        let (a, b) = bounds(arg, self.name, self.path, false)?;
        let (a, b) = (as_f64(&a), as_f64(&b));
        self.bound(&Value::Float(a))?;
        self.bound(&Value::Float(b))?;
        Ok(if self.name == "uniform" {
            Dist::Uniform(a, b)
        } else {
            Dist::LogUniform(a, b)
        })
    }

    /// `int_uniform` and `int_log_uniform`.
    fn integer(&self, arg: &Value) -> Result<Dist, KeyError> {
        let fits = matches!(self.key.ty, Type::Int { .. });
        self.suits(fits, Value::Integer(1), "integers")?;
        let (a, b) = bounds(arg, self.name, self.path, true)?;
        self.bound(&a)?;
        self.bound(&b)?;
        let (a, b) = (a.as_integer().unwrap_or(0), b.as_integer().unwrap_or(0));
        Ok(if self.name == "int_uniform" {
            Dist::IntUniform(a, b)
        } else {
            Dist::IntLogUniform(a, b)
        })
    }

    /// `choice`: a non-empty list of distinct values the key accepts.
    fn choice(&self, arg: &Value) -> Result<Dist, KeyError> {
        let list = match arg {
            Value::Array(l) if !l.is_empty() => l,
            other => {
                return Err(self.err(format!(
                    "choice expects a non-empty list of values, got {}",
                    show(other)
                )));
            }
        };
        for (i, x) in list.iter().enumerate() {
            self.accepts(x)
                .map_err(|m| self.err(format!("choice value {}: {m}", show(x))))?;
            if list[..i].iter().any(|y| same_value(x, y)) {
                return Err(self.err(format!("choice value {} is listed twice", show(x))));
            }
        }
        Ok(Dist::Choice(list.clone()))
    }
}

/// What a key of type `ty` takes, in words.
fn takes(ty: &Type) -> &'static str {
    match ty {
        Type::Int { .. } => "integers",
        Type::Float { .. } => "real numbers",
        Type::Bool => "true or false",
        Type::Choice(_) => "names",
        Type::Special { allowed, .. } | Type::Table(allowed) | Type::Own(allowed) => allowed,
        Type::Text => "text",
    }
}

/// The distributions that suit a key of type `ty`.
fn suggest(ty: &Type) -> &'static str {
    match ty {
        Type::Int { .. } => "int_uniform, int_log_uniform or choice",
        Type::Float { .. } => "uniform, log_uniform or choice",
        _ => "choice",
    }
}

fn as_f64(v: &Value) -> f64 {
    match v {
        Value::Integer(i) => *i as f64,
        Value::Float(f) => *f,
        _ => f64::NAN,
    }
}

/// `[low, high]`: two numbers (integers for `int`), low < high, and both
/// > 0 for the log distributions.
fn bounds(v: &Value, name: &str, path: &str, int: bool) -> Result<(Value, Value), KeyError> {
    let what = if int { "integers" } else { "numbers" };
    let pair = match v {
        Value::Array(l) if l.len() == 2 => l,
        other => {
            return Err(key_err(
                path,
                format!(
                    "{name} expects [low, high], two {what}, got {}",
                    show(other)
                ),
            ));
        }
    };
    for x in pair {
        let ok = match x {
            Value::Integer(_) => true,
            Value::Float(f) => !int && f.is_finite(),
            _ => false,
        };
        if !ok {
            return Err(key_err(
                path,
                format!(
                    "{name} expects [low, high], two {what}, got {} {}",
                    type_name(x),
                    show(x)
                ),
            ));
        }
    }
    let (a, b) = (as_f64(&pair[0]), as_f64(&pair[1]));
    if a >= b {
        return Err(key_err(
            path,
            format!(
                "{name} bounds [{}, {}] are reversed or equal; expected [low, high] with low < high",
                show(&pair[0]),
                show(&pair[1])
            ),
        ));
    }
    if name.ends_with("log_uniform") && a <= 0.0 {
        return Err(key_err(
            path,
            format!(
                "{name} needs bounds > 0 (it draws the logarithm), got [{}, {}]",
                show(&pair[0]),
                show(&pair[1])
            ),
        ));
    }
    Ok((pair[0].clone(), pair[1].clone()))
}

#[cfg(test)]
mod tests;
