//! How each configuration is replicated: `seeds = N` (one seed drives
//! init, order and dropout; the data set is fixed by `data.seed`), or a
//! `[replicates]` table that crosses independent seeds of each source of
//! randomness, so a report can say which source the spread comes from.

use toml::Value;

use super::error::{KeyError, key_err};
use super::grid::Axis;
use super::sections::REPLICATES;
use super::spec::{Batch, Config};
use super::values::uint;
use crate::streams::Seeds;

/// A source of randomness a replicate can vary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The initial weights.
    Init,
    /// The minibatch order.
    Order,
    /// The dropout masks.
    Dropout,
    /// The data set drawn (generated kinds), or a table's split and label noise.
    Data,
}

impl Source {
    /// Every source, in the order of `[replicates]`, of the seed columns and
    /// of the crossed product (first source outermost).
    pub const ALL: [Source; 4] = [Source::Init, Source::Order, Source::Dropout, Source::Data];

    /// Its key in `[replicates]` and its name in column names.
    pub fn name(self) -> &'static str {
        match self {
            Source::Init => "init",
            Source::Order => "order",
            Source::Dropout => "dropout",
            Source::Data => "data",
        }
    }
}

/// The replicates of every configuration.
#[derive(Debug, Clone, PartialEq)]
pub enum Replication {
    /// `seeds`: replicate r uses seed r for init, order and dropout.
    Seeds(Vec<u64>),
    /// `[replicates]`: the product of each source's seeds, one list per
    /// source in [`Source::ALL`] order; a fixed source has one seed (`None`
    /// for a fixed data source: `data.seed` decides).
    Crossed(Vec<Option<Vec<u64>>>),
}

/// One replicate of a configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Replicate {
    /// Its position among its configuration's replicates.
    pub index: usize,
    /// The seed that names it: the seed under `seeds`, the position under
    /// `[replicates]`.
    pub seed: u64,
    /// The seeds of init, order and dropout.
    pub seeds: Seeds,
    /// The data seed, replacing `data.seed`, when data varies.
    pub data: Option<u64>,
}

impl Replication {
    /// Number of replicates per configuration.
    pub fn len(&self) -> usize {
        match self {
            Replication::Seeds(s) => s.len(),
            Replication::Crossed(lists) => lists.iter().flatten().map(Vec::len).product(),
        }
    }

    /// Never true for a loaded study.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The sources with more than one seed and their seed counts, in
    /// [`Source::ALL`] order: the factors of the variance decomposition.
    /// Empty under `seeds`, whose sources are not separable.
    pub fn varying(&self) -> Vec<(Source, usize)> {
        match self {
            Replication::Seeds(_) => Vec::new(),
            Replication::Crossed(lists) => Source::ALL
                .iter()
                .zip(lists)
                .filter_map(|(s, l)| l.as_ref().filter(|l| l.len() > 1).map(|l| (*s, l.len())))
                .collect(),
        }
    }

    /// Every replicate, in order: under `[replicates]` the row-major product
    /// (init outermost, data innermost), the order the variance
    /// decomposition reads its cells in.
    pub fn replicates(&self) -> Vec<Replicate> {
        match self {
            Replication::Seeds(seeds) => seeds
                .iter()
                .enumerate()
                .map(|(index, &seed)| Replicate {
                    index,
                    seed,
                    seeds: Seeds::all(seed),
                    data: None,
                })
                .collect(),
            Replication::Crossed(lists) => {
                let list = |i: usize| lists[i].clone().unwrap_or_else(|| vec![0]);
                let (init, order, dropout) = (list(0), list(1), list(2));
                let data: Vec<Option<u64>> = match &lists[3] {
                    Some(l) => l.iter().map(|&d| Some(d)).collect(),
                    None => vec![None],
                };
                let mut out = Vec::with_capacity(self.len());
                for &i in &init {
                    for &o in &order {
                        for &d in &dropout {
                            for &ds in &data {
                                out.push(Replicate {
                                    index: out.len(),
                                    seed: out.len() as u64,
                                    seeds: Seeds {
                                        init: i,
                                        order: o,
                                        dropout: d,
                                    },
                                    data: ds,
                                });
                            }
                        }
                    }
                }
                out
            }
        }
    }

    /// `key=value` of what names replicate `r` in progress lines and the
    /// plan table: `seed=3`, or the seeds of the varying sources.
    pub fn label(&self, r: &Replicate) -> String {
        match self {
            Replication::Seeds(_) => format!("seed={}", r.seed),
            Replication::Crossed(_) => {
                let varying = self.varying();
                if varying.is_empty() {
                    return format!("seed={}", r.seed);
                }
                varying
                    .iter()
                    .map(|(s, _)| format!("{}={}", s.name(), r.source_seed(*s)))
                    .collect::<Vec<_>>()
                    .join(" ")
            }
        }
    }

    /// A phrase for the summary: "5 seeds", or "60 replicates (init 5 × order 4 × data 3)".
    pub fn describe(&self) -> String {
        match self {
            Replication::Seeds(s) => {
                format!("{} seed{}", s.len(), if s.len() == 1 { "" } else { "s" })
            }
            Replication::Crossed(_) => {
                let parts: Vec<String> = self
                    .varying()
                    .iter()
                    .map(|(s, n)| format!("{} {n}", s.name()))
                    .collect();
                let n = self.len();
                let plural = if n == 1 { "" } else { "s" };
                if parts.is_empty() {
                    format!("{n} replicate{plural}")
                } else {
                    format!("{n} replicate{plural} ({})", parts.join(" × "))
                }
            }
        }
    }
}

impl Replicate {
    /// The seed of `source` (`None` data: `data.seed` decides).
    pub fn source_seed(&self, source: Source) -> u64 {
        match source {
            Source::Init => self.seeds.init,
            Source::Order => self.seeds.order,
            Source::Dropout => self.seeds.dropout,
            Source::Data => self.data.unwrap_or(0),
        }
    }
}

/// Read `seeds` and `[replicates]` (at most one of them).
pub fn parse(seeds: Option<&Value>, table: Option<&Value>) -> Result<Replication, KeyError> {
    if seeds.is_some() && table.is_some() {
        return Err(key_err(
            "replicates",
            "give either `seeds` (one seed for every source) or a [replicates] table, not both",
        ));
    }
    let Some(t) = REPLICATES.table(table)? else {
        return seed_list("seeds", seeds, 100_000).map(Replication::Seeds);
    };
    let lists = Source::ALL
        .iter()
        .map(|s| {
            t.raw(s.name())
                .map(|v| seed_list(&t.key(s.name()), Some(v), 10_000))
                .transpose()
        })
        .collect::<Result<Vec<_>, _>>()?;
    let r = Replication::Crossed(lists);
    if r.len() > 100_000 {
        return Err(key_err(
            "replicates",
            format!(
                "{} replicates per configuration exceeds the limit of 100000",
                r.len()
            ),
        ));
    }
    Ok(r)
}

/// A count n (seeds 0..n) or a list of distinct seeds.
fn seed_list(key: &str, v: Option<&Value>, max: i64) -> Result<Vec<u64>, KeyError> {
    match v {
        None => Ok(vec![0]),
        Some(Value::Integer(n)) if *n >= 1 && *n <= max => Ok((0..*n as u64).collect()),
        Some(Value::Integer(0)) if key != "seeds" => Err(key_err(
            key,
            "0 seeds would run nothing; give a count >= 1 (leave a source out, or give 1, to hold it fixed)",
        )),
        Some(Value::Array(list)) if !list.is_empty() => {
            let mut seeds = Vec::new();
            for v in list {
                let s = uint(v, 0, u32::MAX as usize).map_err(|m| key_err(key, m))? as u64;
                if seeds.contains(&s) {
                    return Err(key_err(
                        key,
                        format!("seed {s} is listed twice; seeds are replicates and must differ"),
                    ));
                }
                seeds.push(s);
            }
            Ok(seeds)
        }
        Some(other) => Err(key_err(
            key,
            format!(
                "expected a count >= 1 or a non-empty list of seeds, got {}",
                super::values::got(other)
            ),
        )),
    }
}

/// Refuse a varying source that varies nothing in any configuration, and
/// data seeds given in two places.
pub fn check_sources(
    r: &Replication,
    configs: &[Config],
    base: &[(String, Value)],
    axes: &[Axis],
) -> Result<(), KeyError> {
    let Replication::Crossed(lists) = r else {
        return Ok(());
    };
    let given =
        |s: Source| lists[Source::ALL.iter().position(|x| *x == s).expect("a source")].is_some();
    let varies = |s: Source| r.varying().iter().any(|(x, _)| *x == s);
    let data_seed_given = base.iter().any(|(k, _)| k == "data.seed")
        || axes.iter().any(|a| a.keys.iter().any(|k| k == "data.seed"));
    if given(Source::Data) && data_seed_given {
        return Err(key_err(
            "replicates.data",
            "data.seed is also given; give the data seeds in one place ([replicates] data = [...])",
        ));
    }
    let unused = |s: Source, why: &str| -> Result<(), KeyError> {
        Err(key_err(
            format!("replicates.{}", s.name()),
            format!(
                "{} seeds vary nothing here: {why}; hold it fixed (leave it out)",
                s.name()
            ),
        ))
    };
    if varies(Source::Data) && !configs.iter().any(|c| c.data.depends_on_seed()) {
        unused(
            Source::Data,
            "the data set is a fixed table with no validation split (data.val) and no label noise",
        )?;
    }
    if varies(Source::Dropout) && configs.iter().all(|c| c.model.dropout == 0.0) {
        unused(Source::Dropout, "model.dropout is 0 in every configuration")?;
    }
    if varies(Source::Order) && configs.iter().all(|c| c.train.batch == Batch::Full) {
        unused(
            Source::Order,
            "every configuration trains on the full batch, in one order",
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crossed(src: &str) -> Replication {
        let t: toml::Table = src.parse().unwrap();
        parse(None, Some(&Value::Table(t))).unwrap()
    }

    #[test]
    fn the_crossed_product_is_row_major_with_init_outermost() {
        let r = crossed("init = 2\norder = [5, 7]\ndata = 3");
        assert_eq!(r.len(), 12);
        assert_eq!(
            r.varying(),
            vec![(Source::Init, 2), (Source::Order, 2), (Source::Data, 3)]
        );
        let reps = r.replicates();
        let cells: Vec<(u64, u64, u64, Option<u64>)> = reps
            .iter()
            .map(|x| (x.seeds.init, x.seeds.order, x.seeds.dropout, x.data))
            .collect();
        assert_eq!(cells[0], (0, 5, 0, Some(0)));
        assert_eq!(cells[1], (0, 5, 0, Some(1)));
        assert_eq!(cells[3], (0, 7, 0, Some(0)));
        assert_eq!(cells[6], (1, 5, 0, Some(0)));
        assert_eq!(cells[11], (1, 7, 0, Some(2)));
        assert_eq!(reps[11].seed, 11);
        assert_eq!(r.label(&reps[11]), "init=1 order=7 data=2");
        assert_eq!(r.describe(), "12 replicates (init 2 × order 2 × data 3)");
    }

    #[test]
    fn a_source_left_out_or_given_one_seed_is_held_fixed() {
        let r = crossed("init = 3\norder = 1\ndropout = [4]");
        assert_eq!(r.varying(), vec![(Source::Init, 3)]);
        assert!(
            r.replicates()
                .iter()
                .all(|x| x.seeds.order == 0 && x.seeds.dropout == 4 && x.data.is_none())
        );
    }

    #[test]
    fn plain_seeds_drive_every_source_and_leave_data_alone() {
        let r = parse(Some(&Value::Integer(3)), None).unwrap();
        assert!(r.varying().is_empty());
        let reps = r.replicates();
        assert_eq!(reps[2].seeds, Seeds::all(2));
        assert_eq!(reps[2].data, None);
        assert_eq!(r.label(&reps[2]), "seed=2");
        assert_eq!(r.describe(), "3 seeds");
    }

    #[test]
    fn bad_replicates_are_refused_naming_the_key() {
        let t = |s: &str| Value::Table(s.parse().unwrap());
        let both = parse(Some(&Value::Integer(2)), Some(&t("init = 2"))).unwrap_err();
        assert_eq!(both.key, "replicates");
        let zero = parse(None, Some(&t("init = 2\norder = 0"))).unwrap_err();
        assert_eq!(zero.key, "replicates.order");
        assert!(zero.message.contains("0 seeds"), "{}", zero.message);
        let unknown = parse(None, Some(&t("weights = 2"))).unwrap_err();
        assert_eq!(unknown.key, "replicates.weights");
        let twice = parse(None, Some(&t("data = [1, 1]"))).unwrap_err();
        assert!(twice.message.contains("listed twice"));
    }
}
