//! Arbitrary bytes to floats, slices and reductions that reach the interesting cases often:
//! NaN, ±∞, ±0, subnormals, the extremes, moderate values, and raw bit patterns.

use arbitrary::{Result, Unstructured};
use focal_loss::{Kernel, Reduction};

/// The values a fuzzer would take long to hit by raw bits.
const SPECIAL: [f32; 14] = [
    f32::NAN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    0.0,
    -0.0,
    1.0,
    -1.0,
    f32::MIN_POSITIVE,
    1e-45,
    -1e-45,
    f32::MAX,
    f32::MIN,
    f32::EPSILON,
    1.0 - f32::EPSILON / 2.0,
];

/// Any `f32`: special, moderate (steps of 1/64 in [−512, 512]), or raw bits.
pub fn float(u: &mut Unstructured) -> Result<f32> {
    Ok(match u.int_in_range(0u8..=7)? {
        0 => *u.choose(&SPECIAL)?,
        1 | 2 => f32::from_bits(u.arbitrary()?),
        3 => f32::from(u.arbitrary::<i8>()?),
        _ => f32::from(u.arbitrary::<i16>()?) / 64.0,
    })
}

/// Whether this value may be anything: in a `wild` case, one value in eight is any
/// [`float`] (so a long slice of a wild case usually holds a bad value, and a tame case
/// never does).
pub fn anything(u: &mut Unstructured, wild: bool) -> Result<bool> {
    Ok(wild && u.ratio(1u8, 8)?)
}

/// A logit: any [`float`] in a wild case, else any but NaN (±∞ included).
pub fn logit(u: &mut Unstructured, wild: bool) -> Result<f32> {
    let x = float(u)?;
    Ok(if x.is_nan() && !anything(u, wild)? {
        0.0
    } else {
        x
    })
}

/// A value meant to be in [0, 1] (a probability, α, a target): in range (its ends often),
/// or in a wild case sometimes any [`float`].
pub fn unit(u: &mut Unstructured, wild: bool) -> Result<f32> {
    if anything(u, wild)? {
        return float(u);
    }
    Ok(match u.int_in_range(0u8..=7)? {
        0 => 0.0,
        1 => 1.0,
        _ => f32::from(u.arbitrary::<u16>()?) / 65535.0,
    })
}

/// A weight in [0, 4] (steps of 1/64), or in a wild case sometimes any [`float`].
pub fn weight(u: &mut Unstructured, wild: bool) -> Result<f32> {
    if anything(u, wild)? {
        return float(u);
    }
    Ok(f32::from(u.arbitrary::<u8>()?) / 64.0)
}

/// A focusing exponent: usually an integer 0..=5 or a fraction in [0, 5], sometimes any
/// [`float`] (negative, NaN, huge).
pub fn exponent(u: &mut Unstructured) -> Result<f32> {
    Ok(match u.int_in_range(0u8..=5)? {
        0 | 1 => f32::from(u.int_in_range(0u8..=5)?),
        2 => float(u)?,
        _ => f32::from(u.arbitrary::<u16>()?) / 13107.0,
    })
}

/// A reduction; in a wild case `MeanOver` may have any normaliser.
pub fn reduction(u: &mut Unstructured, wild: bool) -> Result<Reduction> {
    Ok(match u.int_in_range(0u8..=3)? {
        0 => Reduction::Sum,
        1 => Reduction::Mean,
        2 if wild => Reduction::MeanOver(float(u)?),
        2 => Reduction::MeanOver(f32::from(u.arbitrary::<u16>()?) / 256.0 + 1.0 / 256.0),
        _ => Reduction::MeanOver(f32::from(u.int_in_range(1u8..=64)?)),
    })
}

/// The kernel to run first (the other one runs too).
pub fn kernel(u: &mut Unstructured) -> Result<Kernel> {
    Ok(if u.arbitrary()? {
        Kernel::Simd
    } else {
        Kernel::Libm
    })
}

/// A length that is `n`, or in a wild case sometimes off by a little or anything up to
/// `n + 3`.
pub fn length(u: &mut Unstructured, n: usize, wild: bool) -> Result<usize> {
    if !wild {
        return Ok(n);
    }
    Ok(match u.int_in_range(0u8..=7)? {
        0 => n.saturating_sub(1),
        1 => n + 1,
        2 => u.int_in_range(0..=n + 3)?,
        _ => n,
    })
}

/// `n` values drawn by `value`.
pub fn values<T>(
    u: &mut Unstructured,
    n: usize,
    mut value: impl FnMut(&mut Unstructured) -> Result<T>,
) -> Result<Vec<T>> {
    (0..n).map(|_| value(u)).collect()
}
