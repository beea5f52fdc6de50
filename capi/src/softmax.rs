//! The softmax (multi-class) form: `fl_softmax_*`.
//!
//! One function per entry point and target type: class indices as `int32_t` (no suffix),
//! `uint8_t` (`_u8`) or `uint16_t` (`_u16`), one per sample (or pixel), or soft targets
//! (`_soft`): `float` class probabilities shaped like the logits, each row summing to 1.
//! Every function checks its arguments in a fixed order (the config, its options, alpha, the
//! pointers, then what the Rust crate checks: shape, lengths, targets, logits) and reports the
//! first problem.

// `no_mangle` and the raw-pointer arguments of the exported functions.
#![allow(unsafe_code)]

use focal_loss::SoftmaxTarget;

use crate::config::{fl_reduction, fl_softmax_config};
use crate::raw::{self, In, Out, span};
use crate::status::{
    FL_OPERAND_ALPHA, FL_OPERAND_CONFIG, FL_OPERAND_GRAD, FL_OPERAND_LOGITS, FL_OPERAND_LOSS,
    FL_OPERAND_OUT, FL_OPERAND_TARGETS, fl_error, fl_status,
};

/// What a call computes and where it writes it.
enum Output {
    /// The reduced loss, to this pointer.
    Loss(*mut f32),
    /// One loss per sample (or pixel), to this buffer.
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
unsafe fn call<T: SoftmaxTarget>(
    config: *const fl_softmax_config,
    logits: In<f32>,
    targets: In<T>,
    reduction: fl_reduction,
    output: Output,
    error: *mut fl_error,
) -> fl_status {
    // SAFETY: passed on from this function's contract.
    let result = unsafe { run(config, logits, targets, reduction, output) };
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
unsafe fn run<T: SoftmaxTarget>(
    config: *const fl_softmax_config,
    logits: In<f32>,
    targets: In<T>,
    reduction: fl_reduction,
    output: Output,
) -> Result<(), fl_error> {
    // SAFETY: NULL or a valid config (the contract).
    let config = unsafe { raw::config(config, FL_OPERAND_CONFIG) }?;
    let mut fl = config.focal()?;
    // NULL: no alpha. The class count is valid now, and so is alpha's length.
    let alpha: &[f32] = match config.alpha.is_null() {
        true => &[],
        // SAFETY: valid for `num_classes` reads during the call (the contract).
        false => unsafe { In(config.alpha, config.num_classes).slice(FL_OPERAND_ALPHA) }?,
    };
    if !config.alpha.is_null() {
        fl = fl.with_alpha(alpha)?;
    }
    if let Output::Loss(loss) | Output::LossAndGrad(_, loss) = output {
        raw::non_null(loss, FL_OPERAND_LOSS)?;
    }
    // SAFETY: each NULL or valid for its length, not written during the call (the contract).
    let logits = unsafe { logits.slice(FL_OPERAND_LOGITS) }?;
    // SAFETY: as the logits.
    let targets = unsafe { targets.slice(FL_OPERAND_TARGETS) }?;
    let inputs = [span(logits), span(targets), span(alpha)];
    match output {
        Output::Loss(loss) => {
            let value = fl.loss(logits, targets, reduction.to_rust()?)?;
            // SAFETY: checked not NULL above, valid for a write (the contract).
            unsafe { raw::write(loss, value) };
        }
        Output::PerElement(out) => {
            // SAFETY: NULL or valid for its length (the contract); checked against `inputs`.
            let out = unsafe { out.slice(FL_OPERAND_OUT, &inputs) }?;
            fl.loss_per_element(logits, targets, out)?;
        }
        Output::LossAndGrad(grad, loss) => {
            let reduction = reduction.to_rust()?;
            // SAFETY: NULL or valid for its length (the contract); checked against `inputs`.
            let grad = unsafe { grad.slice(FL_OPERAND_GRAD, &inputs) }?;
            let value = fl.loss_and_grad(logits, targets, reduction, grad)?;
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

/// The reduced loss of the softmax focal loss, `int32_t` class indices.
///
/// `targets`: `int32_t` class indices in 0..C (or the ignore index), one per sample (or pixel).
/// Writes the loss to `*loss`.
///
/// Every pointer is NULL or valid for its length in elements (NULL with a non-zero length is
/// `FL_NULL_POINTER`); `error` may be NULL. Returns `FL_OK` or the first problem's code.
///
/// # Safety
/// As above: the pointers must be valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_softmax_loss(
    config: *const fl_softmax_config,
    logits: *const f32,
    logits_len: usize,
    targets: *const i32,
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
            reduction,
            Output::Loss(loss),
            error,
        )
    }
}

/// The reduced loss of the softmax focal loss, `uint8_t` class indices.
///
/// `targets`: `uint8_t` class indices in 0..C (or the ignore index), one per sample (or pixel).
/// Writes the loss to `*loss`.
///
/// Every pointer is NULL or valid for its length in elements (NULL with a non-zero length is
/// `FL_NULL_POINTER`); `error` may be NULL. Returns `FL_OK` or the first problem's code.
///
/// # Safety
/// As above: the pointers must be valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_softmax_loss_u8(
    config: *const fl_softmax_config,
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
            reduction,
            Output::Loss(loss),
            error,
        )
    }
}

/// The reduced loss of the softmax focal loss, `uint16_t` class indices.
///
/// `targets`: `uint16_t` class indices in 0..C (or the ignore index), one per sample (or pixel).
/// Writes the loss to `*loss`.
///
/// Every pointer is NULL or valid for its length in elements (NULL with a non-zero length is
/// `FL_NULL_POINTER`); `error` may be NULL. Returns `FL_OK` or the first problem's code.
///
/// # Safety
/// As above: the pointers must be valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_softmax_loss_u16(
    config: *const fl_softmax_config,
    logits: *const f32,
    logits_len: usize,
    targets: *const u16,
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
            reduction,
            Output::Loss(loss),
            error,
        )
    }
}

/// The reduced loss of the softmax focal loss, soft targets.
///
/// `targets`: `float` class probabilities, `targets_len` = `logits_len`, each row summing to 1.
/// Writes the loss to `*loss`.
///
/// Every pointer is NULL or valid for its length in elements (NULL with a non-zero length is
/// `FL_NULL_POINTER`); `error` may be NULL. Returns `FL_OK` or the first problem's code.
///
/// # Safety
/// As above: the pointers must be valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_softmax_loss_soft(
    config: *const fl_softmax_config,
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
            reduction,
            Output::Loss(loss),
            error,
        )
    }
}

/// One loss per sample (or pixel) of the softmax focal loss, `int32_t` class indices.
///
/// `targets`: `int32_t` class indices in 0..C (or the ignore index), one per sample (or pixel).
/// Writes each sample's (or pixel's) loss to `out` (`out_len` = `logits_len` / C; ignored
/// targets give 0); on error its contents are unspecified.
///
/// Every pointer is NULL or valid for its length in elements (NULL with a non-zero length is
/// `FL_NULL_POINTER`); `error` may be NULL. Returns `FL_OK` or the first problem's code.
///
/// # Safety
/// As above: the pointers must be valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_softmax_loss_per_element(
    config: *const fl_softmax_config,
    logits: *const f32,
    logits_len: usize,
    targets: *const i32,
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
            NO_REDUCTION,
            Output::PerElement(Out(out, out_len)),
            error,
        )
    }
}

/// One loss per sample (or pixel) of the softmax focal loss, `uint8_t` class indices.
///
/// `targets`: `uint8_t` class indices in 0..C (or the ignore index), one per sample (or pixel).
/// Writes each sample's (or pixel's) loss to `out` (`out_len` = `logits_len` / C; ignored
/// targets give 0); on error its contents are unspecified.
///
/// Every pointer is NULL or valid for its length in elements (NULL with a non-zero length is
/// `FL_NULL_POINTER`); `error` may be NULL. Returns `FL_OK` or the first problem's code.
///
/// # Safety
/// As above: the pointers must be valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_softmax_loss_per_element_u8(
    config: *const fl_softmax_config,
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
            NO_REDUCTION,
            Output::PerElement(Out(out, out_len)),
            error,
        )
    }
}

/// One loss per sample (or pixel) of the softmax focal loss, `uint16_t` class indices.
///
/// `targets`: `uint16_t` class indices in 0..C (or the ignore index), one per sample (or pixel).
/// Writes each sample's (or pixel's) loss to `out` (`out_len` = `logits_len` / C; ignored
/// targets give 0); on error its contents are unspecified.
///
/// Every pointer is NULL or valid for its length in elements (NULL with a non-zero length is
/// `FL_NULL_POINTER`); `error` may be NULL. Returns `FL_OK` or the first problem's code.
///
/// # Safety
/// As above: the pointers must be valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_softmax_loss_per_element_u16(
    config: *const fl_softmax_config,
    logits: *const f32,
    logits_len: usize,
    targets: *const u16,
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
            NO_REDUCTION,
            Output::PerElement(Out(out, out_len)),
            error,
        )
    }
}

/// One loss per sample (or pixel) of the softmax focal loss, soft targets.
///
/// `targets`: `float` class probabilities, `targets_len` = `logits_len`, each row summing to 1.
/// Writes each sample's (or pixel's) loss to `out` (`out_len` = `logits_len` / C; ignored
/// targets give 0); on error its contents are unspecified.
///
/// Every pointer is NULL or valid for its length in elements (NULL with a non-zero length is
/// `FL_NULL_POINTER`); `error` may be NULL. Returns `FL_OK` or the first problem's code.
///
/// # Safety
/// As above: the pointers must be valid for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fl_softmax_loss_per_element_soft(
    config: *const fl_softmax_config,
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
            NO_REDUCTION,
            Output::PerElement(Out(out, out_len)),
            error,
        )
    }
}

/// The reduced loss and its gradient of the softmax focal loss, `int32_t` class indices.
///
/// `targets`: `int32_t` class indices in 0..C (or the ignore index), one per sample (or pixel).
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
pub unsafe extern "C" fn fl_softmax_loss_and_grad(
    config: *const fl_softmax_config,
    logits: *const f32,
    logits_len: usize,
    targets: *const i32,
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
            reduction,
            Output::LossAndGrad(Out(grad, grad_len), loss),
            error,
        )
    }
}

/// The reduced loss and its gradient of the softmax focal loss, `uint8_t` class indices.
///
/// `targets`: `uint8_t` class indices in 0..C (or the ignore index), one per sample (or pixel).
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
pub unsafe extern "C" fn fl_softmax_loss_and_grad_u8(
    config: *const fl_softmax_config,
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
            reduction,
            Output::LossAndGrad(Out(grad, grad_len), loss),
            error,
        )
    }
}

/// The reduced loss and its gradient of the softmax focal loss, `uint16_t` class indices.
///
/// `targets`: `uint16_t` class indices in 0..C (or the ignore index), one per sample (or pixel).
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
pub unsafe extern "C" fn fl_softmax_loss_and_grad_u16(
    config: *const fl_softmax_config,
    logits: *const f32,
    logits_len: usize,
    targets: *const u16,
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
            reduction,
            Output::LossAndGrad(Out(grad, grad_len), loss),
            error,
        )
    }
}

/// The reduced loss and its gradient of the softmax focal loss, soft targets.
///
/// `targets`: `float` class probabilities, `targets_len` = `logits_len`, each row summing to 1.
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
pub unsafe extern "C" fn fl_softmax_loss_and_grad_soft(
    config: *const fl_softmax_config,
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
            reduction,
            Output::LossAndGrad(Out(grad, grad_len), loss),
            error,
        )
    }
}
