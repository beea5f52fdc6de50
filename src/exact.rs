//! Error-free transformations, written once for `f32` and every lane type: Veltkamp's split,
//! Dekker's product and Knuth's two-sum, from IEEE basic operations only (no FMA), so every
//! target gets the same bits.

use crate::kernel_math::KernelMath;

/// Veltkamp's splitter for `f32`: `2^12 + 1` splits a 24-bit significand into two halves of
/// at most 12 bits, whose products are exact.
const SPLITTER: f32 = 4097.0;

/// `v` as `(hi, lo)` with `hi + lo = v` exactly, each of at most 12 significant bits
/// (Veltkamp), for finite `v` below about `2^115` in magnitude (`4097·v` must not overflow).
#[inline(always)]
pub(crate) fn split<R: KernelMath>(v: R) -> (R, R) {
    let c = R::splat(SPLITTER) * v;
    let hi = c - (c - v);
    (hi, v - hi)
}

/// The rounding error of `product = a·b`, exactly: `a·b − product`, given both factors
/// already split by [`split`] (Dekker). Exact when the product neither overflows nor
/// underflows.
#[inline(always)]
pub(crate) fn product_error<R: KernelMath>(a: (R, R), b: (R, R), product: R) -> R {
    let ((a_hi, a_lo), (b_hi, b_lo)) = (a, b);
    ((a_hi * b_hi - product) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
}

/// `a · b` as `(p, e)` with `p = a·b` rounded and `p + e` exact (Dekker), for finite `a`, `b`
/// below about `2^115` in magnitude whose product neither overflows nor underflows.
#[inline(always)]
pub(crate) fn two_product<R: KernelMath>(a: R, b: R) -> (R, R) {
    let p = a * b;
    (p, product_error(split(a), split(b), p))
}

/// `a + b` as `(s, e)` with `s = a + b` rounded and `s + e` exact (Knuth's two-sum, any
/// order of magnitudes), for finite `a`, `b` whose sum does not overflow.
#[inline(always)]
pub(crate) fn two_sum<R: KernelMath>(a: R, b: R) -> (R, R) {
    let s = a + b;
    let back = s - a;
    (s, (a - (s - back)) + (b - back))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::xorshift;

    /// The split halves sum to the value exactly, and the product's error makes `p + e` the
    /// exact product (checked in `f64`, where the product of two `f32` is exact).
    #[test]
    fn split_and_product_are_exact() {
        let mut next = xorshift(7);
        // Any sign and significand, exponents 2^-40 to 2^40.
        let mut value = || {
            let bits = next();
            let exponent = 127 - 40 + (bits >> 24) % 81;
            f32::from_bits((bits & 0x8000_0000) | (exponent << 23) | (bits & 0x007f_ffff))
        };
        for _ in 0..100_000 {
            let (a, b) = (value(), value());
            let (hi, lo) = split(a);
            assert_eq!(f64::from(hi) + f64::from(lo), f64::from(a));
            assert!(
                hi.to_bits() & 0xfff == 0 || hi == 0.0,
                "hi of {a} has more than 12 bits"
            );
            let (p, e) = two_product(a, b);
            assert_eq!(
                f64::from(p) + f64::from(e),
                f64::from(a) * f64::from(b),
                "{a} * {b}"
            );
            let (s, e) = two_sum(a, b);
            assert_eq!(
                f64::from(s) + f64::from(e),
                f64::from(a) + f64::from(b),
                "{a} + {b}"
            );
        }
    }
}
