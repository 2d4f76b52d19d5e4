//! The one statistic enum: every statistic a study names or a summary
//! column holds, with its name stated once. A `[[claims]]` statistic, the
//! seed statistic `[search.halving]` ranks by and a `summary.csv` column
//! (`metric::Aggregate`) are each one of these, and each use lists the ones
//! it allows (`study/claims.rs`, `study/halving.rs`, `metric.rs`). The
//! statistics of one sample (mean, std, median, iqr, min, max, iqm) are
//! computed here, once ([`Statistic::of`]).

/// A statistic of a metric over trials (seeds) or of a group of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Statistic {
    /// Arithmetic mean.
    Mean,
    /// Sample standard deviation (ddof = 1).
    Std,
    /// Median (NumPy's linear interpolation between order statistics).
    Median,
    /// Interquartile range.
    Iqr,
    /// Smallest value.
    Min,
    /// Largest value.
    Max,
    /// The interquartile mean (`scipy.stats.trim_mean(x, 0.25)`).
    Iqm,
    /// Share of trials stuck: more than `stuck_delta` above the best final
    /// train loss of their `stuck_relative` group.
    StuckFraction,
    /// Share of finished trials flagged collapsed: no progress from the
    /// initial loss, or at chance (`report/broken.rs`).
    CollapsedFraction,
    /// Share of finished trials flagged unstable: far above their best
    /// train loss at the end (`report/broken.rs`).
    UnstableFraction,
    /// Comparisons only: the share of (this seed, than seed) pairs in which
    /// `this` is better (lower loss, higher accuracy), ties counted half.
    ProbabilityOfImprovement,
    /// Comparisons only (Bouthillier et al. 2021): the share of paired
    /// runs (the same seed, the same other settings) in which `this` is
    /// better, ties half; a win must be significant (above ½) and
    /// meaningful (its interval above `gamma`).
    ProbabilityOfOutperforming,
    /// Trends in `[replicates]` studies only: the share of a
    /// configuration's variance due to the claim's `source`.
    Share,
    /// Trends on `val_loss` or `val_acc` only: the loss or accuracy of
    /// the ensemble of a configuration's seeds (the mean of their
    /// predicted probabilities, or outputs).
    Ensemble,
    /// Comparisons in a search with `[search] blocks` and `grid` only:
    /// each block's best configuration (by its seed median) against the
    /// grid's best, `this` being the random blocks and `than` the grid.
    BestOfBlock,
    /// `val_loss` or `val_acc` only: how much a configuration's ensemble
    /// of seeds beats its average member (mean member loss − ensemble
    /// loss, or ensemble accuracy − mean member accuracy), with a
    /// bootstrap over the seeds. Judged against 0 per configuration
    /// (`greater_than` / `less_than` without groups) or along an axis.
    EnsembleGain,
}

impl Statistic {
    /// Its name: in a study file, and after a metric's in a column name.
    pub const fn name(self) -> &'static str {
        match self {
            Statistic::Mean => "mean",
            Statistic::Std => "std",
            Statistic::Median => "median",
            Statistic::Iqr => "iqr",
            Statistic::Min => "min",
            Statistic::Max => "max",
            Statistic::Iqm => "iqm",
            Statistic::StuckFraction => "stuck_fraction",
            Statistic::CollapsedFraction => "collapsed_fraction",
            Statistic::UnstableFraction => "unstable_fraction",
            Statistic::ProbabilityOfImprovement => "probability_of_improvement",
            Statistic::ProbabilityOfOutperforming => "probability_of_outperforming",
            Statistic::Share => "share",
            Statistic::Ensemble => "ensemble",
            Statistic::BestOfBlock => "best_of_block",
            Statistic::EnsembleGain => "ensemble_gain",
        }
    }

    /// Every statistic, in the order errors and the docs list them.
    pub const ALL: [Statistic; 16] = [
        Statistic::Mean,
        Statistic::Std,
        Statistic::Median,
        Statistic::Iqr,
        Statistic::Min,
        Statistic::Max,
        Statistic::Iqm,
        Statistic::StuckFraction,
        Statistic::CollapsedFraction,
        Statistic::UnstableFraction,
        Statistic::ProbabilityOfImprovement,
        Statistic::ProbabilityOfOutperforming,
        Statistic::Share,
        Statistic::Ensemble,
        Statistic::BestOfBlock,
        Statistic::EnsembleGain,
    ];

    /// [`Statistic::ALL`] but `left_out`, in the same order (`N` is one
    /// less); a const, so a use's list of what it allows is derived, not
    /// written again.
    pub const fn all_but<const N: usize>(left_out: Statistic) -> [Statistic; N] {
        let mut out = [Statistic::Mean; N];
        let (mut i, mut j) = (0, 0);
        while i < Statistic::ALL.len() {
            if Statistic::ALL[i] as u8 != left_out as u8 {
                out[j] = Statistic::ALL[i];
                j += 1;
            }
            i += 1;
        }
        assert!(j == N, "N is one less than ALL");
        out
    }

    /// (name, statistic) of each of `allowed`: a use's list of the
    /// statistics it takes, for a choice key.
    pub const fn named<const N: usize>(allowed: [Statistic; N]) -> [(&'static str, Statistic); N] {
        let mut out = [("", Statistic::Mean); N];
        let mut i = 0;
        while i < N {
            out[i] = (allowed[i].name(), allowed[i]);
            i += 1;
        }
        out
    }

    /// The statistic of one sample `xs`; `None` when empty or undefined
    /// (std and iqr of fewer than two), and for the statistics that are
    /// not of one sample (the fractions, comparisons, configuration-level
    /// values).
    pub fn of(self, xs: &[f64]) -> Option<f64> {
        match self {
            Statistic::Mean => (!xs.is_empty()).then(|| super::mean(xs)),
            Statistic::Std => super::std(xs),
            Statistic::Median => super::median(xs),
            Statistic::Iqr => super::iqr(xs),
            Statistic::Min => xs.iter().copied().reduce(f64::min),
            Statistic::Max => xs.iter().copied().reduce(f64::max),
            Statistic::Iqm => super::iqm(xs),
            _ => None,
        }
    }

    /// Whether the statistic is the share of trials carrying a flag
    /// (stuck, collapsed, unstable): a mean of 0/1 indicators.
    pub fn is_fraction(self) -> bool {
        matches!(
            self,
            Statistic::StuckFraction | Statistic::CollapsedFraction | Statistic::UnstableFraction
        )
    }

    /// Whether the statistic measures spread (tested with Brown–Forsythe).
    pub fn is_spread(self) -> bool {
        matches!(self, Statistic::Std | Statistic::Iqr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sample statistics of 8, 1, 100, 2, 4, computed here with NumPy
    /// 2.4.6: `np.mean`, `np.std(ddof=1)`, `np.median`,
    /// `np.subtract(*np.percentile(x, [75, 25]))`, and the IQM as
    /// `trim_mean(x, 0.25)` defines it (drop ⌊0.25·5⌋ = 1 from each end of
    /// the sorted values, mean of 2, 4, 8).
    #[test]
    fn sample_statistics_match_numpy() {
        let xs = [8.0, 1.0, 100.0, 2.0, 4.0];
        let close = |s: Statistic, want: f64| {
            let got = s.of(&xs).unwrap();
            assert!((got - want).abs() < 1e-12, "{s:?}: {got} vs {want}");
        };
        close(Statistic::Mean, 23.0);
        close(Statistic::Std, 43.12771730569565);
        close(Statistic::Median, 4.0);
        close(Statistic::Iqr, 6.0);
        close(Statistic::Min, 1.0);
        close(Statistic::Max, 100.0);
        close(Statistic::Iqm, 14.0 / 3.0);
        assert_eq!(Statistic::Std.of(&[1.0]), None);
        assert_eq!(Statistic::Mean.of(&[]), None);
        assert_eq!(Statistic::Share.of(&xs), None);
    }

    #[test]
    fn names_are_distinct() {
        let all = Statistic::named(Statistic::ALL);
        for (i, (n, _)) in all.iter().enumerate() {
            assert!(all[..i].iter().all(|(m, _)| m != n), "{n} twice");
        }
    }
}
