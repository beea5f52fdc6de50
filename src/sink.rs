//! What a pass writes besides the sum of the losses: one design for both forms.
//!
//! Each entry point hands its pass a [`Sink`] ([`SumOnly`], [`Losses`] or [`Gradient`]) that
//! carries what it writes to, and the gradient's scale, so no output slice or scale is passed
//! that the pass ignores. [`Sink::WRITES`] is a constant: the sigmoid pass specialises its loop on
//! it (a pass that writes no gradient computes none); the softmax pass branches on it once
//! per step of rows, whose exponentials dwarf the branch, and keeps one row loop.

use crate::error::{FocalError, Operand, check_len};

/// What a pass writes, besides the sum of the losses.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Writes {
    /// Nothing: only the sum.
    Nothing,
    /// One loss per element (sigmoid) or row (softmax), weighted as in the sum.
    Loss,
    /// One value per logit: the scale × d(sum of the losses)/d(logit).
    Grad,
}

/// Where a pass writes: [`SumOnly`], [`Losses`] or [`Gradient`].
pub(crate) trait Sink {
    /// What the pass writes.
    const WRITES: Writes;
    /// The slice written (empty for [`SumOnly`]).
    fn out(&mut self) -> &mut [f32];
    /// The factor of every gradient value (1 for the sinks that write none).
    fn grad_scale(&self) -> f32 {
        1.0
    }
    /// Checks that the slice written holds `n` values: the error names `out` for
    /// [`Losses`] and `grad` for [`Gradient`]; [`SumOnly`] has nothing to check.
    fn check_len(&mut self, n: usize) -> Result<(), FocalError> {
        match Self::WRITES {
            Writes::Nothing => Ok(()),
            Writes::Loss => check_len(Operand::Output, n, self.out().len()),
            Writes::Grad => check_len(Operand::Grad, n, self.out().len()),
        }
    }
}

/// Writes nothing.
pub(crate) struct SumOnly;

impl Sink for SumOnly {
    const WRITES: Writes = Writes::Nothing;
    #[inline(always)]
    fn out(&mut self) -> &mut [f32] {
        &mut []
    }
}

/// Writes each element's (or row's) loss.
pub(crate) struct Losses<'o>(pub(crate) &'o mut [f32]);

impl Sink for Losses<'_> {
    const WRITES: Writes = Writes::Loss;
    #[inline(always)]
    fn out(&mut self) -> &mut [f32] {
        self.0
    }
}

/// Writes the gradient with respect to every logit, times `scale`.
pub(crate) struct Gradient<'o> {
    /// One value per logit.
    pub(crate) grad: &'o mut [f32],
    /// The factor of the reduction (`1 / divisor`).
    pub(crate) scale: f32,
}

impl Sink for Gradient<'_> {
    const WRITES: Writes = Writes::Grad;
    #[inline(always)]
    fn out(&mut self) -> &mut [f32] {
        self.grad
    }
    #[inline(always)]
    fn grad_scale(&self) -> f32 {
        self.scale
    }
}
