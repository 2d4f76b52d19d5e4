//! The spread and profile figures' bootstraps ride on the IQM columns'
//! resamples. All three read the same resamples of a configuration's
//! seeds (`iqm::resamples`: the configuration's own stream, its seed
//! count), and drawing them was a tenth of a large report's time, three
//! times over (benches/p3.toml). So the IQM pass, holding a
//! configuration's resamples, also computes what the figures will ask of
//! them ([`Wanted`]), and the figures take it ([`Bootstrapped`]).
//!
//! A figure uses a result only for the very values it would bootstrap
//! (compared bit for bit), and computes anything else itself from the same
//! stream: a result depends only on the stream, the count and the values,
//! so the figures are the same bytes either way, and a cell that pools two
//! configurations or counts a diverged seed is never given another's.

use std::collections::HashMap;

use crate::stats::{self, Resamples};

/// A percentile interval, `None` when the statistic is undefined.
type Interval = Option<(f64, f64)>;

/// Per configuration, the seed values the figures will bootstrap.
#[derive(Default)]
pub(in crate::report) struct Wanted {
    /// The spread figure's values (its metric's final values).
    pub spread: HashMap<u64, Vec<f64>>,
    /// The profile figure's values (+∞ for a seed that did not finish).
    pub profile: HashMap<u64, Vec<f64>>,
    /// The profile's thresholds.
    pub taus: Vec<f64>,
}

/// A profile's bands at each threshold.
pub(in crate::report) type Bands = Vec<Option<(f64, f64)>>;

/// What the IQM pass computed for the figures, with the values each
/// result is of.
#[derive(Default)]
pub struct Bootstrapped {
    spread: HashMap<u64, (Vec<f64>, (Interval, Interval))>,
    profile: HashMap<u64, (Vec<f64>, Bands)>,
    taus: Vec<f64>,
}

/// One configuration's share of [`Bootstrapped`].
pub(in crate::report) type Ride = (
    Option<(Vec<f64>, (Interval, Interval))>,
    Option<(Vec<f64>, Bands)>,
);

impl Wanted {
    /// What configuration `config` wants of its resamples `res`: each
    /// figure's values of as many seeds as `res` resamples.
    pub(in crate::report) fn ride(&self, config: u64, res: &Resamples, level: f64) -> Ride {
        let of = |m: &'_ HashMap<u64, Vec<f64>>| -> Option<Vec<f64>> {
            m.get(&config).filter(|v| v.len() == res.n()).cloned()
        };
        let spread = of(&self.spread).map(|v| {
            let iv = stats::spread_intervals(&v, res, level);
            (v, iv)
        });
        let profile = of(&self.profile).map(|v| {
            let bands = stats::share_below_bands(&v, &self.taus, res, level);
            (v, bands)
        });
        (spread, profile)
    }
}

impl Bootstrapped {
    /// Gather the configurations' rides.
    pub(in crate::report) fn of(wanted: &Wanted, rides: Vec<(u64, Ride)>) -> Bootstrapped {
        let mut drawn = Bootstrapped {
            taus: wanted.taus.clone(),
            ..Bootstrapped::default()
        };
        for (config, (spread, profile)) in rides {
            if let Some(s) = spread {
                drawn.spread.insert(config, s);
            }
            if let Some(p) = profile {
                drawn.profile.insert(config, p);
            }
        }
        drawn
    }

    /// The spread intervals of configuration `config`'s `values`, if the
    /// IQM pass computed them for exactly these values.
    pub(in crate::report) fn spread(
        &self,
        config: u64,
        values: &[f64],
    ) -> Option<(Interval, Interval)> {
        let (v, iv) = self.spread.get(&config)?;
        same(v, values).then_some(*iv)
    }

    /// The profile bands of configuration `config`'s `values` at `taus`,
    /// if the IQM pass computed them for exactly these.
    pub(in crate::report) fn profile(
        &self,
        config: u64,
        values: &[f64],
        taus: &[f64],
    ) -> Option<Bands> {
        let (v, bands) = self.profile.get(&config)?;
        (same(v, values) && same(&self.taus, taus)).then(|| bands.clone())
    }
}

#[cfg(test)]
impl Bootstrapped {
    /// How many configurations' spread intervals and profile bands the
    /// IQM pass computed.
    pub(in crate::report) fn counts(&self) -> (usize, usize) {
        (self.spread.len(), self.profile.len())
    }
}

/// Bit for bit the same values.
fn same(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}
