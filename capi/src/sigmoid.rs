//! The sigmoid (binary / multi-label) form: `fl_sigmoid_*`.
//!
//! One function per entry point, target type (`float` in [0, 1], or `uint8_t` 0 / 1 with
//! the `_u8` suffix: identical results) and weighting (`_weighted`: a non-negative weight per
//! element, mmdet's `weight`). Every function checks its arguments in a fixed order (the
//! config and its options, the pointers, then what the Rust crate checks: lengths, targets,
//! weights, logits) and reports the first problem.

// `no_mangle` and the raw-pointer arguments of the exported functions.
#![allow(unsafe_code)]

use focal_loss::BinaryTarget;

use crate::config::{fl_reduction, fl_sigmoid_config};
use crate::raw::{self, In, Out, span};
use crate::status::{
    FL_OPERAND_CONFIG, FL_OPERAND_GRAD, FL_OPERAND_LOGITS, FL_OPERAND_LOSS, FL_OPERAND_OUT,
    FL_OPERAND_TARGETS, FL_OPERAND_WEIGHTS, fl_error, fl_status,
};

/// What a call computes and where it writes it.
enum Output {
    /// The reduced loss, to this pointer.
    Loss(*mut f32),
    /// One loss per element, to this buffer.
    PerElement(Out<f32>),
    /// The gradient to the buffer, the reduced loss to the pointer.
    LossAndGrad(Out<f32>, *mut f32),
}

/// Runs one call and reports its outcome through `error`.
///
/// # Safety
/// The contract of the exported functions: every pointer NULL or valid for its length.
// Inlined into each exported function, whose output and weighting are then constants: a
// program links only the passes of the functions it calls.
#[inline(always)]
unsafe fn call<T: BinaryTarget>(
    config: *const fl_sigmoid_config,
    logits: In<f32>,
    targets: In<T>,
    weights: Option<In<f32>>,
    reduction: fl_reduction,
    output: Output,
    error: *mut fl_error,
) -> fl_status {
    // SAFETY: passed on from this function's contract.
    let result = unsafe { run(config, logits, targets, weights, reduction, output) };
    // SAFETY: `error` is NULL or valid for a write (the contract).
    unsafe { raw::report(result, error) }
}

/// The body of [`call`].
///
/// # Safety
/// As [`call`].
// Inlined into each exported function, whose output and weighting are then constants: a
// program links only the passes of the functions it calls.
#[inline(always)]
unsafe fn run<T: BinaryTarget>(
    config: *const fl_sigmoid_config,
    logits: In<f32>,
    targets: In<T>,
    weights: Option<In<f32>>,
    reduction: fl_reduction,
    output: Output,
) -> Result<(), fl_error> {
    // SAFETY: NULL or a valid config (the contract).
    let fl = unsafe { raw::config(config, FL_OPERAND_CONFIG) }?.focal()?;
    if let Output::Loss(loss) | Output::LossAndGrad(_, loss) = output {
        raw::non_null(loss, FL_OPERAND_LOSS)?;
    }
    // SAFETY: each NULL or valid for its length, not written during the call (the contract).
    let logits = unsafe { logits.slice(FL_OPERAND_LOGITS) }?;
    // SAFETY: as the logits.
    let targets = unsafe { targets.slice(FL_OPERAND_TARGETS) }?;
    let weights = match weights {
        // SAFETY: as the logits.
        Some(w) => Some(unsafe { w.slice(FL_OPERAND_WEIGHTS) }?),
        None => None,
    };
    let inputs = [span(logits), span(targets), span(weights.unwrap_or(&[]))];
    match output {
        Output::Loss(loss) => {
            let reduction = reduction.to_rust()?;
            let value = match weights {
                None => fl.loss(logits, targets, reduction),
                Some(w) => fl.loss_weighted(logits, targets, w, reduction),
            }?;
            // SAFETY: checked not NULL above, valid for a write (the contract).
            unsafe { raw::write(loss, value) };
        }
        Output::PerElement(out) => {
            // SAFETY: NULL or valid for its length (the contract); checked against `inputs`.
            let out = unsafe { out.slice(FL_OPERAND_OUT, &inputs) }?;
            match weights {
                None => fl.loss_per_element(logits, targets, out),
                Some(w) => fl.loss_per_element_weighted(logits, targets, w, out),
            }?;
        }
        Output::LossAndGrad(grad, loss) => {
            let reduction = reduction.to_rust()?;
            // SAFETY: NULL or valid for its length (the contract); checked against `inputs`.
            let grad = unsafe { grad.slice(FL_OPERAND_GRAD, &inputs) }?;
            let value = match weights {
                None => fl.loss_and_grad(logits, targets, reduction, grad),
                Some(w) => fl.loss_and_grad_weighted(logits, targets, w, reduction, grad),
            }?;
            // SAFETY: checked not NULL above, valid for a write (the contract).
            unsafe { raw::write(loss, value) };
        }
    }
    Ok(())
}

/// The reduction of the per-element calls, which have none.
const NO_REDUCTION: fl_reduction = fl_reduction {
    kind: crate::config::FL_REDUCTION_SUM,
    normalizer: 1.0,
};

/// The reduced loss of the sigmoid focal loss.
///
/// `targets`: `float` in [0, 1] (soft targets allowed), one per logit.
/// Writes the loss to `*loss`.
///
/// Every pointer is NULL or valid for its length in elements (NULL with a non-zero length is
/// `FL_NULL_POINTER`); `error` may be NULL. Returns `FL_OK` or the first problem's code.
///
/// # Safety
/// As above: the pointers must be valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_sigmoid_loss(
    config: *const fl_sigmoid_config,
    logits: *const f32,
    logits_len: usize,
    targets: *const f32,
    targets_len: usize,
    reduction: fl_reduction,
    loss: *mut f32,
    error: *mut fl_error,
) -> fl_status {
    // SAFETY: the caller keeps the contract above; `call` checks the NULL pointers.
    unsafe {
        call(
            config,
            In(logits, logits_len),
            In(targets, targets_len),
            None,
            reduction,
            Output::Loss(loss),
            error,
        )
    }
}

/// The reduced loss of the sigmoid focal loss.
///
/// `targets`: `uint8_t` labels 0 / 1, one per logit (the same results as `float` 0 / 1).
/// Writes the loss to `*loss`.
///
/// Every pointer is NULL or valid for its length in elements (NULL with a non-zero length is
/// `FL_NULL_POINTER`); `error` may be NULL. Returns `FL_OK` or the first problem's code.
///
/// # Safety
/// As above: the pointers must be valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_sigmoid_loss_u8(
    config: *const fl_sigmoid_config,
    logits: *const f32,
    logits_len: usize,
    targets: *const u8,
    targets_len: usize,
    reduction: fl_reduction,
    loss: *mut f32,
    error: *mut fl_error,
) -> fl_status {
    // SAFETY: the caller keeps the contract above; `call` checks the NULL pointers.
    unsafe {
        call(
            config,
            In(logits, logits_len),
            In(targets, targets_len),
            None,
            reduction,
            Output::Loss(loss),
            error,
        )
    }
}

/// The reduced loss of the sigmoid focal loss, each element weighted.
///
/// `targets`: `float` in [0, 1] (soft targets allowed), one per logit.
/// `weights`: one finite weight >= 0 per logit; a zero weight makes the element exactly 0.
/// `FL_REDUCTION_MEAN` still divides by the element count.
/// Writes the loss to `*loss`.
///
/// Every pointer is NULL or valid for its length in elements (NULL with a non-zero length is
/// `FL_NULL_POINTER`); `error` may be NULL. Returns `FL_OK` or the first problem's code.
///
/// # Safety
/// As above: the pointers must be valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_sigmoid_loss_weighted(
    config: *const fl_sigmoid_config,
    logits: *const f32,
    logits_len: usize,
    targets: *const f32,
    targets_len: usize,
    weights: *const f32,
    weights_len: usize,
    reduction: fl_reduction,
    loss: *mut f32,
    error: *mut fl_error,
) -> fl_status {
    // SAFETY: the caller keeps the contract above; `call` checks the NULL pointers.
    unsafe {
        call(
            config,
            In(logits, logits_len),
            In(targets, targets_len),
            Some(In(weights, weights_len)),
            reduction,
            Output::Loss(loss),
            error,
        )
    }
}

/// The reduced loss of the sigmoid focal loss, each element weighted.
///
/// `targets`: `uint8_t` labels 0 / 1, one per logit (the same results as `float` 0 / 1).
/// `weights`: one finite weight >= 0 per logit; a zero weight makes the element exactly 0.
/// `FL_REDUCTION_MEAN` still divides by the element count.
/// Writes the loss to `*loss`.
///
/// Every pointer is NULL or valid for its length in elements (NULL with a non-zero length is
/// `FL_NULL_POINTER`); `error` may be NULL. Returns `FL_OK` or the first problem's code.
///
/// # Safety
/// As above: the pointers must be valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_sigmoid_loss_weighted_u8(
    config: *const fl_sigmoid_config,
    logits: *const f32,
    logits_len: usize,
    targets: *const u8,
    targets_len: usize,
    weights: *const f32,
    weights_len: usize,
    reduction: fl_reduction,
    loss: *mut f32,
    error: *mut fl_error,
) -> fl_status {
    // SAFETY: the caller keeps the contract above; `call` checks the NULL pointers.
    unsafe {
        call(
            config,
            In(logits, logits_len),
            In(targets, targets_len),
            Some(In(weights, weights_len)),
            reduction,
            Output::Loss(loss),
            error,
        )
    }
}

/// One loss per element of the sigmoid focal loss.
///
/// `targets`: `float` in [0, 1] (soft targets allowed), one per logit.
/// Writes each element's loss to `out` (`out_len` = `logits_len`); on error its contents
/// are unspecified.
///
/// Every pointer is NULL or valid for its length in elements (NULL with a non-zero length is
/// `FL_NULL_POINTER`); `error` may be NULL. Returns `FL_OK` or the first problem's code.
///
/// # Safety
/// As above: the pointers must be valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_sigmoid_loss_per_element(
    config: *const fl_sigmoid_config,
    logits: *const f32,
    logits_len: usize,
    targets: *const f32,
    targets_len: usize,
    out: *mut f32,
    out_len: usize,
    error: *mut fl_error,
) -> fl_status {
    // SAFETY: the caller keeps the contract above; `call` checks the NULL pointers.
    unsafe {
        call(
            config,
            In(logits, logits_len),
            In(targets, targets_len),
            None,
            NO_REDUCTION,
            Output::PerElement(Out(out, out_len)),
            error,
        )
    }
}

/// One loss per element of the sigmoid focal loss.
///
/// `targets`: `uint8_t` labels 0 / 1, one per logit (the same results as `float` 0 / 1).
/// Writes each element's loss to `out` (`out_len` = `logits_len`); on error its contents
/// are unspecified.
///
/// Every pointer is NULL or valid for its length in elements (NULL with a non-zero length is
/// `FL_NULL_POINTER`); `error` may be NULL. Returns `FL_OK` or the first problem's code.
///
/// # Safety
/// As above: the pointers must be valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_sigmoid_loss_per_element_u8(
    config: *const fl_sigmoid_config,
    logits: *const f32,
    logits_len: usize,
    targets: *const u8,
    targets_len: usize,
    out: *mut f32,
    out_len: usize,
    error: *mut fl_error,
) -> fl_status {
    // SAFETY: the caller keeps the contract above; `call` checks the NULL pointers.
    unsafe {
        call(
            config,
            In(logits, logits_len),
            In(targets, targets_len),
            None,
            NO_REDUCTION,
            Output::PerElement(Out(out, out_len)),
            error,
        )
    }
}

/// One loss per element of the sigmoid focal loss, each element weighted.
///
/// `targets`: `float` in [0, 1] (soft targets allowed), one per logit.
/// `weights`: one finite weight >= 0 per logit; a zero weight makes the element exactly 0.
/// `FL_REDUCTION_MEAN` still divides by the element count.
/// Writes each element's loss to `out` (`out_len` = `logits_len`); on error its contents
/// are unspecified.
///
/// Every pointer is NULL or valid for its length in elements (NULL with a non-zero length is
/// `FL_NULL_POINTER`); `error` may be NULL. Returns `FL_OK` or the first problem's code.
///
/// # Safety
/// As above: the pointers must be valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_sigmoid_loss_per_element_weighted(
    config: *const fl_sigmoid_config,
    logits: *const f32,
    logits_len: usize,
    targets: *const f32,
    targets_len: usize,
    weights: *const f32,
    weights_len: usize,
    out: *mut f32,
    out_len: usize,
    error: *mut fl_error,
) -> fl_status {
    // SAFETY: the caller keeps the contract above; `call` checks the NULL pointers.
    unsafe {
        call(
            config,
            In(logits, logits_len),
            In(targets, targets_len),
            Some(In(weights, weights_len)),
            NO_REDUCTION,
            Output::PerElement(Out(out, out_len)),
            error,
        )
    }
}

/// One loss per element of the sigmoid focal loss, each element weighted.
///
/// `targets`: `uint8_t` labels 0 / 1, one per logit (the same results as `float` 0 / 1).
/// `weights`: one finite weight >= 0 per logit; a zero weight makes the element exactly 0.
/// `FL_REDUCTION_MEAN` still divides by the element count.
/// Writes each element's loss to `out` (`out_len` = `logits_len`); on error its contents
/// are unspecified.
///
/// Every pointer is NULL or valid for its length in elements (NULL with a non-zero length is
/// `FL_NULL_POINTER`); `error` may be NULL. Returns `FL_OK` or the first problem's code.
///
/// # Safety
/// As above: the pointers must be valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_sigmoid_loss_per_element_weighted_u8(
    config: *const fl_sigmoid_config,
    logits: *const f32,
    logits_len: usize,
    targets: *const u8,
    targets_len: usize,
    weights: *const f32,
    weights_len: usize,
    out: *mut f32,
    out_len: usize,
    error: *mut fl_error,
) -> fl_status {
    // SAFETY: the caller keeps the contract above; `call` checks the NULL pointers.
    unsafe {
        call(
            config,
            In(logits, logits_len),
            In(targets, targets_len),
            Some(In(weights, weights_len)),
            NO_REDUCTION,
            Output::PerElement(Out(out, out_len)),
            error,
        )
    }
}

/// The reduced loss and its gradient of the sigmoid focal loss.
///
/// `targets`: `float` in [0, 1] (soft targets allowed), one per logit.
/// Writes the gradient with respect to each logit, scaled like the reduction, to `grad`
/// (`grad_len` = `logits_len`, not overlapping an input) and the loss to `*loss`; on error
/// the contents of `grad` are unspecified.
///
/// Every pointer is NULL or valid for its length in elements (NULL with a non-zero length is
/// `FL_NULL_POINTER`); `error` may be NULL. Returns `FL_OK` or the first problem's code.
///
/// # Safety
/// As above: the pointers must be valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_sigmoid_loss_and_grad(
    config: *const fl_sigmoid_config,
    logits: *const f32,
    logits_len: usize,
    targets: *const f32,
    targets_len: usize,
    reduction: fl_reduction,
    grad: *mut f32,
    grad_len: usize,
    loss: *mut f32,
    error: *mut fl_error,
) -> fl_status {
    // SAFETY: the caller keeps the contract above; `call` checks the NULL pointers.
    unsafe {
        call(
            config,
            In(logits, logits_len),
            In(targets, targets_len),
            None,
            reduction,
            Output::LossAndGrad(Out(grad, grad_len), loss),
            error,
        )
    }
}

/// The reduced loss and its gradient of the sigmoid focal loss.
///
/// `targets`: `uint8_t` labels 0 / 1, one per logit (the same results as `float` 0 / 1).
/// Writes the gradient with respect to each logit, scaled like the reduction, to `grad`
/// (`grad_len` = `logits_len`, not overlapping an input) and the loss to `*loss`; on error
/// the contents of `grad` are unspecified.
///
/// Every pointer is NULL or valid for its length in elements (NULL with a non-zero length is
/// `FL_NULL_POINTER`); `error` may be NULL. Returns `FL_OK` or the first problem's code.
///
/// # Safety
/// As above: the pointers must be valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_sigmoid_loss_and_grad_u8(
    config: *const fl_sigmoid_config,
    logits: *const f32,
    logits_len: usize,
    targets: *const u8,
    targets_len: usize,
    reduction: fl_reduction,
    grad: *mut f32,
    grad_len: usize,
    loss: *mut f32,
    error: *mut fl_error,
) -> fl_status {
    // SAFETY: the caller keeps the contract above; `call` checks the NULL pointers.
    unsafe {
        call(
            config,
            In(logits, logits_len),
            In(targets, targets_len),
            None,
            reduction,
            Output::LossAndGrad(Out(grad, grad_len), loss),
            error,
        )
    }
}

/// The reduced loss and its gradient of the sigmoid focal loss, each element weighted.
///
/// `targets`: `float` in [0, 1] (soft targets allowed), one per logit.
/// `weights`: one finite weight >= 0 per logit; a zero weight makes the element exactly 0.
/// `FL_REDUCTION_MEAN` still divides by the element count.
/// Writes the gradient with respect to each logit, scaled like the reduction, to `grad`
/// (`grad_len` = `logits_len`, not overlapping an input) and the loss to `*loss`; on error
/// the contents of `grad` are unspecified.
///
/// Every pointer is NULL or valid for its length in elements (NULL with a non-zero length is
/// `FL_NULL_POINTER`); `error` may be NULL. Returns `FL_OK` or the first problem's code.
///
/// # Safety
/// As above: the pointers must be valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_sigmoid_loss_and_grad_weighted(
    config: *const fl_sigmoid_config,
    logits: *const f32,
    logits_len: usize,
    targets: *const f32,
    targets_len: usize,
    weights: *const f32,
    weights_len: usize,
    reduction: fl_reduction,
    grad: *mut f32,
    grad_len: usize,
    loss: *mut f32,
    error: *mut fl_error,
) -> fl_status {
    // SAFETY: the caller keeps the contract above; `call` checks the NULL pointers.
    unsafe {
        call(
            config,
            In(logits, logits_len),
            In(targets, targets_len),
            Some(In(weights, weights_len)),
            reduction,
            Output::LossAndGrad(Out(grad, grad_len), loss),
            error,
        )
    }
}

/// The reduced loss and its gradient of the sigmoid focal loss, each element weighted.
///
/// `targets`: `uint8_t` labels 0 / 1, one per logit (the same results as `float` 0 / 1).
/// `weights`: one finite weight >= 0 per logit; a zero weight makes the element exactly 0.
/// `FL_REDUCTION_MEAN` still divides by the element count.
/// Writes the gradient with respect to each logit, scaled like the reduction, to `grad`
/// (`grad_len` = `logits_len`, not overlapping an input) and the loss to `*loss`; on error
/// the contents of `grad` are unspecified.
///
/// Every pointer is NULL or valid for its length in elements (NULL with a non-zero length is
/// `FL_NULL_POINTER`); `error` may be NULL. Returns `FL_OK` or the first problem's code.
///
/// # Safety
/// As above: the pointers must be valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_sigmoid_loss_and_grad_weighted_u8(
    config: *const fl_sigmoid_config,
    logits: *const f32,
    logits_len: usize,
    targets: *const u8,
    targets_len: usize,
    weights: *const f32,
    weights_len: usize,
    reduction: fl_reduction,
    grad: *mut f32,
    grad_len: usize,
    loss: *mut f32,
    error: *mut fl_error,
) -> fl_status {
    // SAFETY: the caller keeps the contract above; `call` checks the NULL pointers.
    unsafe {
        call(
            config,
            In(logits, logits_len),
            In(targets, targets_len),
            Some(In(weights, weights_len)),
            reduction,
            Output::LossAndGrad(Out(grad, grad_len), loss),
            error,
        )
    }
}
