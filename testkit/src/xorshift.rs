//! The benches' input generator, [`Xorshift64`]: tiny, deterministic and the same on every
//! target. (The digest workload, the softmax accuracy rows, the synthetic problem and the
//! firmware's cost workload draw from the crate's own xorshift32, `focal_loss::train::Rng`.)

/// xorshift64 (shifts 13, 7, 17): the benches' inputs. The state must not be 0.
#[derive(Debug, Clone)]
pub struct Xorshift64(pub u64);

impl Xorshift64 {
    /// Advances the state and returns it.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform in [0, 1), 24 bits.
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 * (1.0 / (1u64 << 24) as f32)
    }

    /// Uniform in [-1, 1).
    pub fn signed(&mut self) -> f32 {
        2.0 * self.unit() - 1.0
    }
}
