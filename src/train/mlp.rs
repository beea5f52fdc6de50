//! A multilayer perceptron with one hidden ReLU layer.

use super::model::{Model, dot};
use super::rng::Rng;

/// `logit = w2 · relu(W1 x + b1) + b2`: `D` features, `H` hidden units.
///
/// ```
/// use focal_loss::train::{Mlp, Model};
/// let m = Mlp::<4, 8>::init(1);
/// assert!(m.logit(&[0.1, 0.2, 0.3, 0.4]).is_finite());
/// assert_eq!(m.parameters().count(), 8 * 4 + 8 + 8 + 1);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp<const D: usize, const H: usize> {
    /// Hidden-layer weights, one row of `D` per hidden unit.
    pub hidden_weights: [[f32; D]; H],
    /// Hidden-layer biases.
    pub hidden_bias: [f32; H],
    /// Output weights.
    pub output_weights: [f32; H],
    /// Output bias.
    pub output_bias: f32,
}

impl<const D: usize, const H: usize> Mlp<D, H> {
    /// Glorot-uniform weights from `seed`, zero biases: the same model on every target.
    ///
    /// ```
    /// use focal_loss::train::Mlp;
    /// assert_eq!(Mlp::<3, 5>::init(9), Mlp::<3, 5>::init(9));
    /// ```
    pub fn init(seed: u32) -> Self {
        let mut rng = Rng::new(seed);
        let mut uniform = |fan_in: usize, fan_out: usize| {
            let limit = libm::sqrtf(6.0 / (fan_in + fan_out) as f32);
            (2.0 * rng.uniform() - 1.0) * limit
        };
        let mut m = Self::zeroed();
        for w in m.hidden_weights.as_flattened_mut() {
            *w = uniform(D, H);
        }
        for w in &mut m.output_weights {
            *w = uniform(H, 1);
        }
        m
    }

    /// The hidden layer's activations for `x`.
    fn hidden(&self, x: &[f32]) -> [f32; H] {
        core::array::from_fn(|j| unit(&self.hidden_weights[j], self.hidden_bias[j], x))
    }
}

/// One hidden unit's activation, `relu(w · x + b)` (ReLU written as a comparison, so that the
/// sign of a zero never depends on the target's `max` instruction).
///
/// Out of line on the one-lane targets: inlined, LLVM's SLP vectoriser turns the units' bias
/// adds and ReLUs into vector instructions where the core has a vector unit (Cortex-M55's
/// Helium: `vadd.f32 q`, `vmaxnm.f32 q`), and MVE flushes subnormals to zero.
#[cfg_attr(
    not(any(target_arch = "x86_64", target_arch = "aarch64")),
    inline(never)
)]
fn unit(w: &[f32], b: f32, x: &[f32]) -> f32 {
    let a = dot(w, x) + b;
    if a > 0.0 { a } else { 0.0 }
}

impl<const D: usize, const H: usize> Model for Mlp<D, H> {
    const FEATURES: usize = D;

    fn zeroed() -> Self {
        Self {
            hidden_weights: [[0.0; D]; H],
            hidden_bias: [0.0; H],
            output_weights: [0.0; H],
            output_bias: 0.0,
        }
    }

    fn logit(&self, x: &[f32]) -> f32 {
        dot(&self.output_weights, &self.hidden(x)) + self.output_bias
    }

    fn add_gradient(&self, x: &[f32], dlogit: f32, grad: &mut Self) {
        for (j, h) in self.hidden(x).into_iter().enumerate() {
            grad.output_weights[j] += dlogit * h;
            if h > 0.0 {
                let dh = dlogit * self.output_weights[j];
                for (g, &x) in grad.hidden_weights[j].iter_mut().zip(x) {
                    *g += dh * x;
                }
                grad.hidden_bias[j] += dh;
            }
        }
        grad.output_bias += dlogit;
    }

    fn parameters(&self) -> impl Iterator<Item = f32> {
        let hidden = self.hidden_weights.as_flattened().iter();
        hidden
            .chain(&self.hidden_bias)
            .chain(&self.output_weights)
            .copied()
            .chain(core::iter::once(self.output_bias))
    }

    fn parameters_mut(&mut self) -> impl Iterator<Item = &mut f32> {
        let hidden = self.hidden_weights.as_flattened_mut().iter_mut();
        hidden
            .chain(&mut self.hidden_bias)
            .chain(&mut self.output_weights)
            .chain(core::iter::once(&mut self.output_bias))
    }
}
