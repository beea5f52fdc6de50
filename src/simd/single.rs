//! One `f32` lane behind the [`SimdF32`] interface: the lane type of `Kernel::Simd` on targets
//! without vector registers (Cortex-M), where `wide` would lower a vector to one copy of
//! scalar code per lane and spill the lanes to the stack.
//!
//! Every operation is the same IEEE-754 operation a vector lane performs, and a comparison
//! selects the same value a vector lane's mask selects, so one lane computes the same bits as
//! sixteen.

use core::ops::{Add, BitAnd, BitOr, BitOrAssign, Div, Mul, Neg, Not, Shl, Shr, Sub};

use super::{SimdF32, SimdI32, SimdMask};

/// One `f32` lane.
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(transparent)]
pub(crate) struct Single(pub(crate) f32);

/// One `i32` lane, the integer view of [`Single`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(transparent)]
pub(crate) struct SingleInt(pub(crate) i32);

impl Single {
    /// Bitwise combination of two lanes.
    #[inline(always)]
    fn bits(self, rhs: Self, op: impl Fn(u32, u32) -> u32) -> Self {
        Single(f32::from_bits(op(self.0.to_bits(), rhs.0.to_bits())))
    }
}

macro_rules! arithmetic {
    ($lane:ident, $($trait:ident $method:ident $op:tt),*) => {$(
        impl $trait for $lane {
            type Output = Self;
            #[inline(always)]
            fn $method(self, rhs: Self) -> Self {
                $lane(self.0 $op rhs.0)
            }
        }
    )*};
}

arithmetic!(Single, Add add +, Sub sub -, Mul mul *, Div div /);

impl Neg for Single {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        Single(-self.0)
    }
}

impl BitAnd for Single {
    type Output = Self;
    #[inline(always)]
    fn bitand(self, rhs: Self) -> Self {
        self.bits(rhs, |a, b| a & b)
    }
}

impl BitOr for Single {
    type Output = Self;
    #[inline(always)]
    fn bitor(self, rhs: Self) -> Self {
        self.bits(rhs, |a, b| a | b)
    }
}

impl BitOrAssign for Single {
    #[inline(always)]
    fn bitor_assign(&mut self, rhs: Self) {
        *self = *self | rhs;
    }
}

impl Not for Single {
    type Output = Self;
    #[inline(always)]
    fn not(self) -> Self {
        Single(f32::from_bits(!self.0.to_bits()))
    }
}

impl Add for SingleInt {
    type Output = Self;
    #[inline(always)]
    fn add(self, rhs: Self) -> Self {
        SingleInt(self.0.wrapping_add(rhs.0))
    }
}

impl Sub for SingleInt {
    type Output = Self;
    #[inline(always)]
    fn sub(self, rhs: Self) -> Self {
        SingleInt(self.0.wrapping_sub(rhs.0))
    }
}

impl BitAnd for SingleInt {
    type Output = Self;
    #[inline(always)]
    fn bitand(self, rhs: Self) -> Self {
        SingleInt(self.0 & rhs.0)
    }
}

impl Shl<u32> for SingleInt {
    type Output = Self;
    #[inline(always)]
    fn shl(self, n: u32) -> Self {
        SingleInt(self.0.wrapping_shl(n))
    }
}

impl Shr<u32> for SingleInt {
    type Output = Self;
    /// Arithmetic shift, as `wide`'s.
    #[inline(always)]
    fn shr(self, n: u32) -> Self {
        SingleInt(self.0.wrapping_shr(n))
    }
}

impl SimdI32 for SingleInt {
    #[inline(always)]
    fn splat(v: i32) -> Self {
        SingleInt(v)
    }
}

/// A comparison's result on one lane is a `bool`, so a select is a conditional move (no
/// mask held in a register and combined bit by bit). A vector lane type selects by its
/// all-ones / all-zeros masks, which picks the same value.
impl SimdMask<Single> for bool {
    #[inline(always)]
    fn select(self, if_true: Single, if_false: Single) -> Single {
        if self { if_true } else { if_false }
    }
    #[inline(always)]
    fn any(self) -> bool {
        self
    }
    #[inline(always)]
    fn all(self) -> bool {
        self
    }
}

impl SimdF32 for Single {
    type Int = SingleInt;
    type Mask = bool;
    type Array = [f32; 1];
    const LANES: usize = 1;
    #[inline(always)]
    fn splat(v: f32) -> Self {
        Single(v)
    }
    #[inline(always)]
    fn from_array(a: [f32; 1]) -> Self {
        Single(a[0])
    }
    #[inline(always)]
    fn to_array(self) -> [f32; 1] {
        [self.0]
    }
    #[inline(always)]
    fn load(values: &[f32]) -> Self {
        Single(values.first().copied().unwrap_or(0.0))
    }
    #[inline(always)]
    fn store(self, out: &mut [f32]) {
        if let Some(dst) = out.first_mut() {
            *dst = self.0;
        }
    }
    #[inline(always)]
    fn abs(self) -> Self {
        Single(f32::from_bits(self.0.to_bits() & 0x7fff_ffff))
    }
    #[inline(always)]
    fn lt(self, rhs: Self) -> bool {
        self.0 < rhs.0
    }
    #[inline(always)]
    fn le(self, rhs: Self) -> bool {
        self.0 <= rhs.0
    }
    #[inline(always)]
    fn gt(self, rhs: Self) -> bool {
        self.0 > rhs.0
    }
    #[inline(always)]
    fn ge(self, rhs: Self) -> bool {
        self.0 >= rhs.0
    }
    #[inline(always)]
    fn eq(self, rhs: Self) -> bool {
        self.0 == rhs.0
    }
    #[inline(always)]
    fn to_int_bits(self) -> SingleInt {
        SingleInt(self.0.to_bits().cast_signed())
    }
    #[inline(always)]
    fn from_int_bits(bits: SingleInt) -> Self {
        Single(f32::from_bits(bits.0.cast_unsigned()))
    }
    #[inline(always)]
    fn from_int(v: SingleInt) -> Self {
        Single(v.0 as f32)
    }
}
