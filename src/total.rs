//! The total of a pass and its reduction, in `f32` operations only: a running sum kept as a
//! compensated pair, and the division of that pair by the reduction's divisor.
//!
//! No `f64` is involved, so a device without a double-precision FPU runs no soft-float
//! routine (and links none) for the sum, while the total keeps about 48 significant bits:
//! far below one `f32` ULP of the reduced loss for any slice that fits in memory. The
//! operations are IEEE basic operations in a fixed order, so every target gets the same bits.

use crate::exact::two_product;

/// Above this magnitude a quotient is not refined: the split would overflow.
const REFINE_MAX: f32 = 1.0e30;
/// Below this magnitude a total is scaled up by [`SCALE`] before the division, so that the
/// exact product does not underflow, and the quotient scaled back.
const TINY: f32 = f32::from_bits((127 - 60) << 23); // 2^-60
/// `2^64`, and its inverse: powers of two, so the scaling is exact.
const SCALE: f32 = f32::from_bits((127 + 64) << 23);
const UNSCALE: f32 = f32::from_bits((127 - 64) << 23);

/// `hi + lo` unevaluated: `hi` is the `f32` running sum, `lo` the sum of the exact rounding
/// error of every addition into it (Knuth's two-sum).
///
/// Once `hi` is infinite or NaN it stays so and `lo` is meaningless: [`Pair::divided_by`]
/// returns the quotient of `hi` alone then.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Pair {
    pub(crate) hi: f32,
    pub(crate) lo: f32,
}

impl Pair {
    /// The empty sum.
    pub(crate) const ZERO: Pair = Pair { hi: 0.0, lo: 0.0 };

    /// Adds `v`: `hi` becomes `hi + v` rounded, and that addition's exact error (Knuth's
    /// two-sum) joins `lo`. The chain through `hi` is one addition; [`renormalise`]
    /// (Self::renormalise) once per block keeps `lo` small.
    ///
    /// Inlined on vector targets, where the blocked sum's fold is inlined into the pass; one
    /// copy elsewhere, for flash (eight calls per 128 elements).
    #[cfg_attr(any(target_arch = "x86_64", target_arch = "aarch64"), inline(always))]
    #[cfg_attr(
        not(any(target_arch = "x86_64", target_arch = "aarch64")),
        inline(never)
    )]
    pub(crate) fn add(&mut self, v: f32) {
        let s = self.hi + v;
        let back = s - self.hi;
        self.lo += (self.hi - (s - back)) + (v - back);
        self.hi = s;
    }

    /// `(hi, lo)` made `hi + lo` rounded and the exact rest (fast two-sum, `|lo| <= |hi|`
    /// here), so `lo` is below half an ULP of `hi`. An infinite or NaN `hi` is kept, with
    /// `lo` 0.
    #[inline(always)]
    pub(crate) fn renormalise(&mut self) {
        if !self.hi.is_finite() {
            self.lo = 0.0;
            return;
        }
        let s = self.hi + self.lo;
        let lo = self.lo - (s - self.hi);
        if s.is_finite() {
            self.hi = s;
            self.lo = lo;
        }
    }

    /// `(hi + lo) / d`, rounded to `f32`: `q = hi / d.hi` refined once by the exact
    /// remainder `hi − q·d.hi` (Dekker's product, no fused multiply-add), plus `lo − q·d.lo`.
    /// The result is within a hair of half an ULP of the quotient of the pair.
    #[inline(never)]
    pub(crate) fn divided_by(self, d: Divisor) -> f32 {
        // A tiny total is scaled up (exactly), so that the exact product cannot underflow,
        // and its quotient scaled back; any other is scaled by 1.
        let (scale, unscale) = if self.hi.abs() < TINY {
            (SCALE, UNSCALE)
        } else {
            (1.0, 1.0)
        };
        let (hi, lo) = (self.hi * scale, self.lo * scale);
        let q = hi / d.hi;
        // Dekker's split of a quotient or divisor above `REFINE_MAX` would overflow (and
        // turn even `0 / f32::MAX` into NaN): such a quotient is the one rounded division.
        if q.is_nan() || q.abs() > REFINE_MAX || d.hi.abs() > REFINE_MAX {
            return q * unscale;
        }
        let (p, p_error) = two_product(q, d.hi);
        let remainder = (((hi - p) - p_error) + lo) - q * d.lo;
        (q + remainder / d.hi) * unscale
    }
}

/// The divisor of a reduction as `hi + lo`, both `f32`: exact for every count below `2^48`
/// (a count of elements beyond `2^24` does not fit one `f32`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Divisor {
    pub(crate) hi: f32,
    pub(crate) lo: f32,
}

impl Divisor {
    /// An `f32` divisor (exact as it is).
    pub(crate) const fn of(value: f32) -> Self {
        Divisor { hi: value, lo: 0.0 }
    }

    /// A count, split exactly into `hi` (the count rounded to `f32`) and the rest.
    pub(crate) fn of_count(count: usize) -> Self {
        let hi = count as f32;
        // `hi` is `count` rounded to 24 bits (a count below `usize::MAX − 2^39` does not round
        // past `usize::MAX`, so `hi as usize` is exact), and the signed rest, below 2^(k−24)
        // for a k-bit count, converts exactly for counts below 2^48.
        let rest = count.wrapping_sub(hi as usize) as isize;
        Divisor {
            hi,
            lo: rest as f32,
        }
    }

    /// `1 / divisor` rounded to `f32` (correctly rounded when `lo` is 0): the gradient's
    /// scale.
    pub(crate) fn reciprocal(self) -> f32 {
        Pair { hi: 1.0, lo: 0.0 }.divided_by(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fuzzing found `Reduction::MeanOver(f32::MAX)` giving NaN: Dekker's split of the
    /// divisor overflowed. A huge divisor now takes the plain quotient.
    #[test]
    fn huge_divisors_give_the_plain_quotient() {
        for d in [f32::MAX, 1.0e31, 3.0e38] {
            let d = Divisor::of(d);
            assert_eq!(Pair::ZERO.divided_by(d), 0.0);
            assert_eq!(d.reciprocal(), 1.0 / d.hi);
            let p = Pair {
                hi: 1.0e30,
                lo: 0.0,
            };
            assert_eq!(p.divided_by(d), 1.0e30 / d.hi);
        }
    }

    /// The pair's value in `f64` (exact: two `f32` of nearby exponents).
    fn value(p: Pair) -> f64 {
        f64::from(p.hi) + f64::from(p.lo)
    }

    /// A pair sum of many terms of mixed sign and magnitude is the exact sum to within
    /// 2^-40 of the sum of magnitudes, where a plain `f32` sum misses by more than 2^-24.
    #[test]
    fn pair_sum_is_nearly_exact() {
        let mut next = crate::test_rng::xorshift(0x2545_f491);
        let mut pair = Pair::ZERO;
        let mut plain = 0.0f32;
        let (mut exact, mut magnitude) = (0.0f64, 0.0f64);
        for i in 0..100_000 {
            let v = (next() >> 8) as f32 / 16_777_216.0 * if i % 3 == 0 { -1.0 } else { 100.0 };
            pair.add(v);
            if i % 8 == 7 {
                pair.renormalise();
            }
            plain += v;
            exact += f64::from(v);
            magnitude += f64::from(v.abs());
        }
        assert!((value(pair) - exact).abs() <= magnitude * 2f64.powi(-40));
        assert!((f64::from(plain) - exact).abs() > magnitude * 2f64.powi(-24));
    }

    /// The quotient of a pair by a divisor is the correctly rounded `f32` of the exact
    /// quotient, on a spread of pairs and divisors (counts beyond 2^24 included).
    #[test]
    fn division_rounds_the_exact_quotient() {
        let mut next = crate::test_rng::xorshift(0x9e37_79b9_u32);
        for _ in 0..100_000 {
            // Totals from 2^-64 to 2^100 (the tiny ones take the scaled path).
            let hi = f32::from_bits(0x1f80_0000 + next() % 0x3200_0000);
            let lo = hi * (next() as f32 / u32::MAX as f32 - 0.5) * 2f32.powi(-24);
            let count = (next() as usize % 100_000_000) + 1;
            let d = Divisor::of_count(count);
            assert_eq!(f64::from(d.hi) + f64::from(d.lo), count as f64);
            let exact = (f64::from(hi) + f64::from(lo)) / count as f64;
            let got = Pair { hi, lo }.divided_by(d);
            // Within half an ULP (the spacing towards the exact quotient) of it, with a
            // sliver for ties.
            let toward = if exact < f64::from(got) && got > 0.0 {
                f32::from_bits(got.to_bits() - 1)
            } else {
                f32::from_bits(got.to_bits() + 1)
            };
            let ulp = (f64::from(toward) - f64::from(got)).abs();
            assert!(
                (f64::from(got) - exact).abs() <= 0.5 * ulp * (1.0 + 1e-6),
                "{hi:e} + {lo:e} over {count}: {got:e}, exact {exact:e}"
            );
        }
    }

    /// Non-finite totals pass through; the sum reduction is `hi + lo` rounded.
    #[test]
    fn special_totals() {
        let mut inf = Pair::ZERO;
        inf.add(f32::MAX);
        inf.add(f32::MAX);
        assert_eq!(inf.hi, f32::INFINITY);
        inf.add(-1.0);
        inf.renormalise();
        assert_eq!((inf.hi, inf.lo), (f32::INFINITY, 0.0));
        assert_eq!(inf.divided_by(Divisor::of_count(3)), f32::INFINITY);
        let nan = Pair {
            hi: f32::NAN,
            lo: 0.0,
        };
        assert!(nan.divided_by(Divisor::of(1.0)).is_nan());
        let p = Pair {
            hi: 1.0,
            lo: 2f32.powi(-30),
        };
        assert_eq!(p.divided_by(Divisor::of(1.0)), 1.0);
        assert_eq!(Pair::ZERO.divided_by(Divisor::of_count(7)), 0.0);
        assert_eq!(Divisor::of_count(3).reciprocal(), 1.0 / 3.0);
        // A tiny total over a tiny normaliser: scaled up, not refined, scaled back.
        let tiny = Pair { hi: 1e-20, lo: 0.0 };
        assert_eq!(tiny.divided_by(Divisor::of(1e-38)), 1e-20f32 / 1e-38);
    }
}
