//! Errors in units in the last place of `f32`, and the pass/fail rule every reference-vector
//! check uses. `core` only, no allocation: the host tests and the on-device firmware use this
//! same module, so a vector passes or fails by one rule everywhere.

/// Smallest normal `f32`, as `f64`.
const MIN_NORMAL: f64 = f32::MIN_POSITIVE as f64;

/// Distance from `got` to `want` in units of the `f32` ULP at `want`.
/// `None` where `want` is not a normal `f32` (zero, subnormal, or beyond `f32::MAX`).
pub fn ulp_error(got: f32, want: f64) -> Option<f64> {
    ulps_of(got, want, want.abs())
}

/// Distance from `got` to `want` in units of the `f32` ULP at `scale`, the magnitude the
/// rounding error is relative to. `None` where `scale` is not a normal `f32`.
pub fn ulps_of(got: f32, want: f64, scale: f64) -> Option<f64> {
    if !(MIN_NORMAL..=f64::from(f32::MAX)).contains(&scale) {
        return None;
    }
    Some((f64::from(got) - want).abs() / ulp_at(scale))
}

/// The `f32` ULP at a normal magnitude `w`: `2^(⌊log2 w⌋ − 23)`, read from the exponent bits.
pub fn ulp_at(w: f64) -> f64 {
    let exponent = ((w.to_bits() >> 52) & 0x7ff) as i64 - 1023;
    f64::from_bits(((exponent - 23 + 1023) as u64) << 52)
}

/// The rule of every reference-vector check: `got` is within `bound` ULP of `want`, measured
/// at `scale` (`|want|` for a value with relative accuracy; the sum of a difference's terms
/// for one without) or, where `scale` is not a normal `f32`, at `|want|`. Where neither is a
/// normal `f32`, an infinite `want` must be matched exactly and a finite one to within half
/// the smallest normal `f32`.
///
/// `Ok` carries the error in ULP (0 for the exact and tiny cases), `Err` the error that
/// failed (`f64::INFINITY` where it is not measured in ULP).
pub fn check(got: f32, want: f64, scale: f64, bound: f64) -> Result<f64, f64> {
    match ulps_of(got, want, scale).or_else(|| ulp_error(got, want)) {
        Some(e) if e <= bound => Ok(e),
        Some(e) => Err(e),
        None if want.is_infinite() => {
            if f64::from(got) == want {
                Ok(0.0)
            } else {
                Err(f64::INFINITY)
            }
        }
        None if (f64::from(got) - want).abs() <= MIN_NORMAL / 2.0 => Ok(0.0),
        None => Err(f64::INFINITY),
    }
}
