//! The modulating factor `(1 − p_t)^γ`, by repeated multiplication for small integer γ and
//! through the logarithm otherwise.

use crate::lanes::Lanes;

/// How `(1 − p_t)^γ` is evaluated for a validated γ.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Focusing {
    /// γ ∈ {0, 1, 2, 3, 4, 5}: products of `1 − p_t`, exact to a few roundings for every input.
    Integer(u8),
    /// Any other γ > 0: `exp(γ · ln(1 − p_t))`.
    Real(f32),
}

impl Focusing {
    /// The evaluation strategy for a finite γ >= 0.
    pub(crate) const fn of(gamma: f32) -> Self {
        if gamma == 0.0 {
            Focusing::Integer(0)
        } else if gamma == 1.0 {
            Focusing::Integer(1)
        } else if gamma == 2.0 {
            Focusing::Integer(2)
        } else if gamma == 3.0 {
            Focusing::Integer(3)
        } else if gamma == 4.0 {
            Focusing::Integer(4)
        } else if gamma == 5.0 {
            Focusing::Integer(5)
        } else {
            Focusing::Real(gamma)
        }
    }

    /// `q^γ` where `q = 1 − p_t`; `ln_q` is evaluated only for non-integer γ.
    #[inline(always)]
    pub(crate) fn power<R: Lanes>(self, q: R, ln_q: impl FnOnce() -> R) -> R {
        match self {
            Focusing::Integer(0) => R::splat(1.0),
            Focusing::Integer(1) => q,
            Focusing::Integer(2) => q * q,
            Focusing::Integer(3) => q * q * q,
            Focusing::Integer(4) => {
                let q2 = q * q;
                q2 * q2
            }
            Focusing::Integer(_) => {
                let q2 = q * q;
                q2 * q2 * q
            }
            Focusing::Real(gamma) => (R::splat(gamma) * ln_q()).exp(),
        }
    }
}
