//! Where randomness comes from: one ChaCha8 stream per source, seeded by
//! that source's seed and told apart by the stream number (`set_stream`),
//! never by drawing from one stream in sequence. Varying one source's seed
//! therefore leaves every other source's draws bit-identical: the footing
//! for asking which source a result's variance comes from.
//!
//! Streams of a data seed: 0 the training draw, 1 the fresh validation
//! draw, 2 the held-out split, 3 the blob centres, 4 a table's label noise,
//! 5 `max_rows`' subset of a read training split (`data.rs`). Streams of
//! a trial's seeds: 10 the initial weights, 11 the minibatch order, 12 the
//! dropout masks. Stream 20: point `i` of a
//! random search (`[search] strategy = "random"`), keyed by the search seed
//! and `i` together ([`search_rng`]), so each point has a generator of its
//! own and growing `samples` leaves the earlier points unchanged.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The generator of stream `stream` under `seed`.
pub fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(stream);
    r
}

/// The generator of point `index` of a random search under `seed`: the
/// ChaCha8 key holds the seed and the index side by side (so distinct
/// (seed, index) pairs never share a generator, as a hash of them could),
/// on stream 20.
pub fn search_rng(seed: u64, index: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&index.to_le_bytes());
    let mut r = ChaCha8Rng::from_seed(key);
    r.set_stream(20);
    r
}

/// A trial's sources of randomness besides its data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seeds {
    /// Seed of the initial weights.
    pub init: u64,
    /// Seed of the minibatch order.
    pub order: u64,
    /// Seed of the dropout masks.
    pub dropout: u64,
}

impl Seeds {
    /// One replicate seed for every source (`seeds = N` in a study).
    pub fn all(seed: u64) -> Seeds {
        Seeds {
            init: seed,
            order: seed,
            dropout: seed,
        }
    }

    /// The generator of the initial weights.
    pub fn init_rng(&self) -> ChaCha8Rng {
        rng(self.init, 10)
    }

    /// The generator of the minibatch order.
    pub fn order_rng(&self) -> ChaCha8Rng {
        rng(self.order, 11)
    }

    /// The generator of the dropout masks.
    pub fn dropout_rng(&self) -> ChaCha8Rng {
        rng(self.dropout, 12)
    }
}
