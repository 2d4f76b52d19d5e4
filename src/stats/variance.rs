//! Variance components of a balanced crossed random-effects design with one
//! observation per cell: how much of the spread of a metric is due to each
//! independent source of randomness (init, order, data, ...).
//!
//! The estimator is the method of moments from the ANOVA mean squares
//! (Montgomery, *Design and Analysis of Experiments*, ch. 13), for any
//! number of factors k ≥ 1. With every factor random and one observation
//! per cell, the model is the full crossed model whose top (k-way)
//! interaction is confounded with the residual. For a set S of factors,
//!
//! - its effect in a cell is Σ_{T ⊆ S} (−1)^{|S∖T|} m_T, where m_T is the
//!   mean over the factors not in T (m_∅ the grand mean);
//! - SS_S = c_S · Σ over the levels of S of effect², with c_S = Π_{i∉S} n_i
//!   the number of cells that share one level combination of S;
//!   df_S = Π_{i∈S} (n_i − 1); MS_S = SS_S / df_S;
//! - E[MS_S] = Σ_{T ⊇ S} c_T σ²_T, whose inverse (Möbius inversion over
//!   the supersets) is σ²_S = (1 / c_S) Σ_{T ⊇ S} (−1)^{|T∖S|} MS_T.
//!
//! For two factors this is σ²_A = (MS_A − MS_AB)/b; for three,
//! σ²_A = (MS_A − MS_AB − MS_AC + MS_ABC)/(b·c) and σ²_AB = (MS_AB − MS_ABC)/c,
//! as in DESIGN.md; the k-way term MS_{all} is interaction + residual.

use rand_chacha::ChaCha8Rng;

use super::percentile_interval;

/// Why a table cannot be split into variance components.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VarianceError {
    /// No level counts were given.
    #[error("a variance decomposition needs at least one varying source")]
    NoFactors,
    /// A factor with fewer than two levels does not vary.
    #[error("source {factor} has {levels} level(s); a varying source needs at least 2")]
    TooFewLevels {
        /// Index of the factor.
        factor: usize,
        /// Its level count.
        levels: usize,
    },
    /// The observations do not fill the design exactly once.
    #[error("the design has {expected} cells but {got} observations were given")]
    WrongLength {
        /// The product of the level counts.
        expected: usize,
        /// The number of observations.
        got: usize,
    },
    /// An observation is NaN or infinite.
    #[error("observation {index} is not finite ({value})")]
    NotFinite {
        /// Its row-major index.
        index: usize,
        /// The value.
        value: f64,
    },
}

/// One term of the decomposition.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// The factors of the term, ascending indices into the level counts: a
    /// main effect has one, a two-way component two; the residual term
    /// lists every factor (it is the k-way interaction plus noise).
    pub factors: Vec<usize>,
    /// Whether this is the interaction + residual term. With one factor
    /// there is none (the factor's variance is the whole variance).
    pub residual: bool,
    /// Degrees of freedom of the term's mean square.
    pub df: usize,
    /// The ANOVA mean square SS / df.
    pub mean_square: f64,
    /// The method-of-moments estimate before truncation (may be negative).
    pub raw: f64,
    /// The component: `raw`, or 0 where `raw` was negative.
    pub variance: f64,
    /// Whether `raw` was negative and `variance` was set to 0.
    pub truncated: bool,
    /// `variance` over the sum of all terms' `variance`; NaN when every
    /// component is 0 (there is no variance to share out).
    pub share: f64,
}

/// The variance components of one metric over a crossed design.
#[derive(Debug, Clone, PartialEq)]
pub struct VarianceComponents {
    /// The level count of each factor, as given.
    pub levels: Vec<usize>,
    /// Main effects in factor order, then the two-way components (for
    /// three or more factors) in lexicographic order of their factors
    /// ((0,1), (0,2), (1,2)), then higher ones likewise, then the residual.
    pub terms: Vec<Term>,
}

impl VarianceComponents {
    /// The main-effect term of factor `i`.
    pub fn main(&self, i: usize) -> &Term {
        &self.terms[i]
    }

    /// The interaction + residual term (`None` with one factor).
    pub fn residual(&self) -> Option<&Term> {
        self.terms.last().filter(|t| t.residual)
    }

    /// The term whose factors are exactly `factors` (ascending).
    pub fn term(&self, factors: &[usize]) -> Option<&Term> {
        self.terms.iter().find(|t| t.factors == factors)
    }

    /// Which terms were truncated at 0, by their factors.
    pub fn truncated(&self) -> Vec<&[usize]> {
        self.terms
            .iter()
            .filter(|t| t.truncated)
            .map(|t| t.factors.as_slice())
            .collect()
    }
}

/// Splits the variance of `y` over a balanced crossed design into one
/// component per varying source (main effects), the interactions below the
/// top one (the two-way components when there are three sources), and the
/// interaction + residual term, by the method of moments from the ANOVA
/// mean squares (see the module docs and DESIGN.md). Negative estimates are
/// set to 0 and flagged (`Term::truncated`); shares are each component over
/// the sum of the components. One factor: its component is the sample
/// variance (ddof 1) and its share is 1.
///
/// `levels[i]` is the number of levels of factor i (each at least 2: a
/// source held fixed is not a factor). `y` holds one observation per cell
/// in row-major order: the last factor varies fastest, so the cell with
/// levels (l₀, l₁, …, l_{k−1}) is at index ((l₀·n₁ + l₁)·n₂ + l₂)… .
///
/// Any k works; the number of terms is 2^k − 1, so keep k small (the
/// study has at most four sources).
pub fn variance_components(
    levels: &[usize],
    y: &[f64],
) -> Result<VarianceComponents, VarianceError> {
    check(levels, y)?;
    if levels.len() == 1 {
        return Ok(one_factor(levels, y));
    }
    let design = Design::new(levels);
    let (ms, df) = design.mean_squares(y);
    let mut terms = design.terms(&ms, &df);
    let total: f64 = terms.iter().map(|t| t.variance).sum();
    if total > 0.0 {
        for t in &mut terms {
            t.share = t.variance / total;
        }
    }
    Ok(VarianceComponents {
        levels: levels.to_vec(),
        terms,
    })
}

/// The table must have factors of at least two levels, one finite
/// observation per cell.
fn check(levels: &[usize], y: &[f64]) -> Result<(), VarianceError> {
    if levels.is_empty() {
        return Err(VarianceError::NoFactors);
    }
    if let Some((factor, &n)) = levels.iter().enumerate().find(|(_, n)| **n < 2) {
        return Err(VarianceError::TooFewLevels { factor, levels: n });
    }
    let cells: usize = levels.iter().product();
    if y.len() != cells {
        return Err(VarianceError::WrongLength {
            expected: cells,
            got: y.len(),
        });
    }
    if let Some((index, &value)) = y.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(VarianceError::NotFinite { index, value });
    }
    Ok(())
}

/// One varying source: its variance is the sample variance (ddof 1), share 1.
fn one_factor(levels: &[usize], y: &[f64]) -> VarianceComponents {
    let var = super::std(y).map_or(0.0, |s| s * s);
    VarianceComponents {
        levels: levels.to_vec(),
        terms: vec![Term {
            factors: vec![0],
            residual: false,
            df: levels[0] - 1,
            mean_square: var,
            raw: var,
            variance: var,
            truncated: false,
            share: if var > 0.0 { 1.0 } else { f64::NAN },
        }],
    }
}

/// A crossed design of `k` factors: sets of factors are bit masks, and
/// every cell has its level tuple.
struct Design<'a> {
    levels: &'a [usize],
    k: usize,
    cells: usize,
    full: usize,
    tuples: Vec<Vec<usize>>,
}

/// +1 for an even number of set bits, −1 for odd: inclusion–exclusion signs.
fn parity_sign(bits: usize) -> f64 {
    if bits.count_ones().is_multiple_of(2) {
        1.0
    } else {
        -1.0
    }
}

impl<'a> Design<'a> {
    fn new(levels: &'a [usize]) -> Design<'a> {
        let k = levels.len();
        let cells: usize = levels.iter().product();
        let tuples = (0..cells)
            .map(|mut c| {
                let mut t = vec![0; k];
                for i in (0..k).rev() {
                    t[i] = c % levels[i];
                    c /= levels[i];
                }
                t
            })
            .collect();
        Design {
            levels,
            k,
            cells,
            full: (1usize << k) - 1,
            tuples,
        }
    }

    fn factors(&self, mask: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.k).filter(move |i| mask & (1 << i) != 0)
    }

    /// Index of a cell's levels restricted to the factors in `mask`, in a
    /// row-major table over those factors.
    fn index(&self, mask: usize, t: &[usize]) -> usize {
        self.factors(mask)
            .fold(0, |acc, i| acc * self.levels[i] + t[i])
    }

    /// Cells of the table over the factors in `mask`.
    fn size(&self, mask: usize) -> usize {
        self.factors(mask).map(|i| self.levels[i]).product()
    }

    /// Marginal means m_T for every set T of factors.
    fn marginal_means(&self, y: &[f64]) -> Vec<Vec<f64>> {
        (0..=self.full)
            .map(|mask| {
                let mut sums = vec![0.0; self.size(mask)];
                for (t, v) in self.tuples.iter().zip(y) {
                    sums[self.index(mask, t)] += v;
                }
                let per = (self.cells / self.size(mask)) as f64;
                sums.into_iter().map(|s| s / per).collect()
            })
            .collect()
    }

    /// Mean square and degrees of freedom of every non-empty set S: the
    /// effect of S at a cell is Σ over subsets T of S of ±m_T.
    fn mean_squares(&self, y: &[f64]) -> (Vec<f64>, Vec<usize>) {
        let means = self.marginal_means(y);
        let mut ms = vec![0.0; self.full + 1];
        let mut df = vec![0usize; self.full + 1];
        for s in 1..=self.full {
            let mut effects: Vec<Option<f64>> = vec![None; self.size(s)];
            for t in &self.tuples {
                let j = self.index(s, t);
                if effects[j].is_some() {
                    continue;
                }
                // Σ over subsets T of S, walking the submasks of s.
                let mut e = 0.0;
                let mut sub = s;
                loop {
                    e += parity_sign(s & !sub) * means[sub][self.index(sub, t)];
                    if sub == 0 {
                        break;
                    }
                    sub = (sub - 1) & s;
                }
                effects[j] = Some(e);
            }
            let ss = (self.cells / self.size(s)) as f64
                * effects
                    .iter()
                    .map(|e| e.unwrap_or(0.0).powi(2))
                    .sum::<f64>();
            df[s] = self.factors(s).map(|i| self.levels[i] - 1).product();
            ms[s] = ss / df[s] as f64;
        }
        (ms, df)
    }

    /// Components by Möbius inversion over the supersets, main effects
    /// first, then two-way terms and so on; the full set is the residual.
    fn terms(&self, ms: &[f64], df: &[usize]) -> Vec<Term> {
        let mut order: Vec<usize> = (1..=self.full).collect();
        order.sort_by_key(|&s| {
            let bits: Vec<usize> = self.factors(s).collect();
            (bits.len(), bits)
        });
        order
            .into_iter()
            .map(|s| {
                let raw = (s..=self.full)
                    .filter(|t| t & s == s)
                    .map(|t| parity_sign(t & !s) * ms[t])
                    .sum::<f64>()
                    / (self.cells / self.size(s)) as f64;
                Term {
                    factors: self.factors(s).collect(),
                    residual: s == self.full,
                    df: df[s],
                    mean_square: ms[s],
                    raw,
                    variance: raw.max(0.0),
                    truncated: raw < 0.0,
                    share: f64::NAN,
                }
            })
            .collect()
    }
}

/// Percentile intervals of one term over the bootstrap resamples.
#[derive(Debug, Clone, PartialEq)]
pub struct TermInterval {
    /// The interval of the (truncated) component.
    pub variance: (f64, f64),
    /// The interval of its share, over the resamples with some variance
    /// (`None` when no resample had any).
    pub share: Option<(f64, f64)>,
}

/// Bootstrap percentile intervals at `level` for every term of
/// [`variance_components`], in the order of its `terms`. Each of `reps`
/// resamples draws the levels of every factor independently with
/// replacement (a crossed-design, "pigeonhole" bootstrap: Owen 2007) and
/// keeps the cells at the drawn level combinations, so the resampled table
/// has the same shape; the components are estimated on it as on the data.
/// Draws come from `rng`, which the caller seeds, so the intervals are
/// reproducible. The level resampling reflects that the sources' levels
/// (seeds) are themselves a sample; it is known to be conservative.
pub fn bootstrap_components(
    levels: &[usize],
    y: &[f64],
    reps: usize,
    level: f64,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<TermInterval>, VarianceError> {
    let point = variance_components(levels, y)?;
    let cells = y.len();
    let mut variances = vec![Vec::with_capacity(reps); point.terms.len()];
    let mut shares = vec![Vec::with_capacity(reps); point.terms.len()];
    let mut sample = vec![0.0; cells];
    let mut picks: Vec<Vec<usize>> = levels.iter().map(|&n| vec![0; n]).collect();
    for _ in 0..reps {
        for (p, &n) in picks.iter_mut().zip(levels) {
            super::indices_into(rng, n, p);
        }
        resample_cells(levels, &picks, y, &mut sample);
        let vc = variance_components(levels, &sample)?;
        for (j, t) in vc.terms.iter().enumerate() {
            variances[j].push(t.variance);
            if !t.share.is_nan() {
                shares[j].push(t.share);
            }
        }
    }
    Ok(variances
        .iter()
        .zip(&shares)
        .map(|(v, s)| TermInterval {
            variance: percentile_interval(v, level).unwrap_or((f64::NAN, f64::NAN)),
            share: percentile_interval(s, level),
        })
        .collect())
}

/// Fills `out` with the table whose cell (l₀, …, l_{k−1}) is the cell
/// (picks[0][l₀], …, picks[k−1][l_{k−1}]) of `y`, both row-major.
fn resample_cells(levels: &[usize], picks: &[Vec<usize>], y: &[f64], out: &mut [f64]) {
    for (c, s) in out.iter_mut().enumerate() {
        // Decompose the resampled cell c into levels, last factor first, and
        // map each to its drawn original level, rebuilding the index in y.
        let mut rest = c;
        let mut stride = 1;
        let mut src = 0;
        for i in (0..levels.len()).rev() {
            src += picks[i][rest % levels[i]] * stride;
            rest /= levels[i];
            stride *= levels[i];
        }
        *s = y[src];
    }
}

#[cfg(test)]
mod tests;
