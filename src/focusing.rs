//! The modulating factor `(1 − p_t)^γ`: by repeated multiplication for small integer γ, and
//! through `exp(γ · ln(1 − p_t))` otherwise, with the exponent carried exactly where it is
//! large.

use crate::exact::{product_error, split};
use crate::kernel_math::KernelMath;

/// Above this γ the exponent `γ·softplus(z)` is formed in plain `f32` (the factor is then 0
/// or 1 to within rounding for all but a sliver of inputs), which keeps the exact product
/// below free of overflow.
const EXACT_GAMMA_MAX: f32 = 1_048_576.0;
/// `softplus(z)` beyond this is capped before the exact product (2^64: with γ >= 2^-20 the
/// factor is 0 there anyway).
const SOFTPLUS_CAP: f32 = 18_446_744_073_709_551_616.0;

/// How `(1 − p_t)^γ` is evaluated for a validated γ.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub(crate) enum Focusing {
    /// γ ∈ {0, 1, 2, 3, 4, 5}: products of `1 − p_t` for soft targets; hard targets multiply
    /// only for γ <= 2 (see [`Focusing::power_of_softplus`]).
    Integer(u8),
    /// Any other γ up to [`EXACT_GAMMA_MAX`], split as `hi + lo` (each of at most 12
    /// significant bits) for the exact product `γ·softplus(z)`.
    Real { gamma: f32, hi: f32, lo: f32 },
    /// γ above [`EXACT_GAMMA_MAX`].
    Huge(f32),
}

impl Focusing {
    /// The evaluation strategy for a finite γ >= 0.
    pub(crate) fn of(gamma: f32) -> Self {
        let n = gamma as u8;
        if gamma <= 5.0 && f32::from(n) == gamma {
            Focusing::Integer(n)
        } else if gamma <= EXACT_GAMMA_MAX {
            let (hi, lo) = split(gamma);
            Focusing::Real { gamma, hi, lo }
        } else {
            Focusing::Huge(gamma)
        }
    }

    /// `q^γ` for `q = 1 − p_t = e^(−softplus(z))` of a hard target, where
    /// `softplus(z) = relu + tail` with `relu >= 0` exact and `tail` in [0, ln 2].
    ///
    /// γ ∈ {0, 1, 2} multiply `q`. Any other γ (integers 3 to 5 included: a fifth power also
    /// multiplies the error of `q` by five) goes through `exp(−γ·relu − γ·tail)` with `γ·relu`
    /// exact (Dekker's product), so `exp` sees the exponent's full value however large,
    /// instead of a rounding error it would scale by the exponent's size.
    #[inline(always)]
    pub(crate) fn power_of_softplus<R: KernelMath>(self, q: R, relu: R, tail: R) -> R {
        match self {
            Focusing::Integer(n) if n <= 2 => integer_power(q, n),
            // Small integers have at most 12 significant bits: they are their own `hi`.
            Focusing::Integer(n) => exp_of_product(relu, tail, f32::from(n), f32::from(n), 0.0),
            Focusing::Real { gamma, hi, lo } => exp_of_product(relu, tail, gamma, hi, lo),
            Focusing::Huge(gamma) => (-(R::splat(gamma) * (relu + tail))).exp(),
        }
    }

    /// `q^γ` for any `q = 1 − p_t` in [0, 1] (NaN gives NaN); `ln q` is evaluated only for
    /// non-integer γ.
    ///
    /// A fractional γ takes `ln q` as `big + small` ([`KernelMath::ln_parts`], `big` exact)
    /// and `γ·big` exactly (Dekker's product), so that `exp` sees the exponent's full value:
    /// `e^(γ·ln q)` of a rounded `ln q` and a rounded product carries up to
    /// `|γ·ln q|·2^-24` of error on each, which a small `q^γ` shows as that many ULP
    /// (36 ULP at γ = 4.8, `q` = 0.016, found by `tests/suite/sigmoid_proptest.rs`). What is left
    /// is `q`'s own rounding times γ.
    #[inline(always)]
    pub(crate) fn power<R: KernelMath>(self, q: R) -> R {
        match self {
            Focusing::Integer(n) => integer_power(q, n),
            Focusing::Real { gamma, hi, lo } => real_power(q, gamma, hi, lo, false),
            // No split: `γ·k·ln2_hi` is only formed where `k = 0` (0, exactly); every `q`
            // with `k <= −1` is below √½, and `(√½)^(2^20)` is 0.
            Focusing::Huge(gamma) => real_power(q, gamma, gamma, 0.0, true),
        }
    }
}

/// `q^γ` for a fractional `γ = hi + lo` (see [`Focusing::power`]).
///
/// Inlined on vector targets (everything a SIMD pass runs is inlined into the
/// `#[target_feature]` function it runs in); one copy per lane type on the one-lane targets,
/// whose flash holds one instead of one per formula that raises to γ (11 KiB on the
/// Cortex-M0's check program).
///
/// `huge`: γ above [`EXACT_GAMMA_MAX`], passed as `hi = γ, lo = 0`; where `q < √½` the
/// power is 0 (`γ·k·ln2_hi` may overflow there), elsewhere `γ·ln q` is formed from the
/// rest alone.
#[cfg_attr(any(target_arch = "x86_64", target_arch = "aarch64"), inline(always))]
#[cfg_attr(
    not(any(target_arch = "x86_64", target_arch = "aarch64")),
    inline(never)
)]
fn real_power<R: KernelMath>(q: R, gamma: f32, hi: f32, lo: f32, huge: bool) -> R {
    let zero = R::splat(0.0);
    let (big, small) = q.ln_parts();
    let power = exp_of_product(-big, -small, gamma, hi, lo);
    let power = if huge {
        R::select(big.eq(zero), power, zero)
    } else {
        power
    };
    // ln 0 = −∞: 0^γ = 0. NaN stays NaN.
    let power = R::select(q.eq(zero), zero, power);
    R::select(q.eq(q), power, q)
}

/// `exp(−γ·(relu + tail))` with `γ·relu` carried exactly as `product + error` (`γ = hi + lo`,
/// each half of at most 12 significant bits).
#[inline(always)]
fn exp_of_product<R: KernelMath>(relu: R, tail: R, gamma: f32, hi: f32, lo: f32) -> R {
    let u = relu.cap(SOFTPLUS_CAP);
    let product = u * R::splat(gamma);
    let error = product_error(split(u), (R::splat(hi), R::splat(lo)), product);
    R::exp_sum(-product, -(error + R::splat(gamma) * tail))
}

/// `q^n` for `n` in 0..=5 by multiplication.
#[inline(always)]
fn integer_power<R: KernelMath>(q: R, n: u8) -> R {
    match n {
        0 => R::splat(1.0),
        1 => q,
        2 => q * q,
        3 => q * q * q,
        4 => {
            let q2 = q * q;
            q2 * q2
        }
        _ => {
            let q2 = q * q;
            q2 * q2 * q
        }
    }
}
