//! Status codes, the error details, and their messages.

use core::ffi::c_char;

use focal_loss::{FocalError, Operand};

/// What a function returns: `FL_OK` (0) on success, else the code of what was wrong.
///
/// Codes 1 to 13 mirror the variants of the Rust crate's `FocalError` one to one, in its
/// order; 14 and up are the C API's own.
pub type fl_status = i32;

/// Success.
pub const FL_OK: fl_status = 0;
/// gamma is negative, NaN or infinite (`value`: gamma).
pub const FL_INVALID_GAMMA: fl_status = 1;
/// The sigmoid alpha is outside [0, 1] or NaN (`value`: alpha).
pub const FL_INVALID_ALPHA: fl_status = 2;
/// A buffer does not have the length the logits require (`operand`: which buffer,
/// `expected`: the length it must have, `found`: the length it has).
pub const FL_LENGTH_MISMATCH: fl_status = 3;
/// A sigmoid target is outside [0, 1] or NaN, or a `uint8_t` target is neither 0 nor 1
/// (`index`: the first bad one, `value`: its value).
pub const FL_INVALID_TARGET: fl_status = 4;
/// A per-element weight is negative, NaN or infinite (`index`, `value`).
pub const FL_INVALID_WEIGHT: fl_status = 5;
/// The normaliser of `FL_REDUCTION_MEAN_OVER` is not finite and > 0 (`value`).
pub const FL_INVALID_NORMALIZER: fl_status = 6;
/// A logit is NaN (`index`: the first one). +-infinite logits are valid.
pub const FL_NON_FINITE_LOGIT: fl_status = 7;
/// The number of classes is 0 or above 2^24 (`int_value`).
pub const FL_INVALID_NUM_CLASSES: fl_status = 8;
/// Channels-first with 0 spatial positions, or so many that C * spatial overflows `size_t`
/// (`int_value`: spatial).
pub const FL_INVALID_SPATIAL: fl_status = 9;
/// The logits length is not a multiple of the row size, C (or C * spatial for
/// channels-first) (`found`: the logits length, `expected`: the row size).
pub const FL_LOGITS_SHAPE: fl_status = 10;
/// A class index is negative or >= the number of classes, and not the ignore index
/// (`index`: the first bad target, `int_value`: its value, `expected`: the number of classes).
pub const FL_CLASS_OUT_OF_RANGE: fl_status = 11;
/// A per-class alpha is negative, NaN or infinite (`index`: the class, `value`: its alpha).
pub const FL_INVALID_CLASS_ALPHA: fl_status = 12;
/// A row of soft targets does not sum to 1 within 1e-4 (`index`: the row, `value`: its sum).
pub const FL_TARGET_ROW_SUM: fl_status = 13;
/// A pointer that must not be NULL is (`operand`: which). A buffer of length 0 may be NULL.
pub const FL_NULL_POINTER: fl_status = 14;
/// A kernel, layout or reduction kind that is none of its constants (`operand`: the config
/// or the reduction, `int_value`: the value).
pub const FL_INVALID_OPTION: fl_status = 15;
/// An output buffer overlaps an input buffer (`operand`: the output). Gradients cannot be
/// computed in place.
pub const FL_OVERLAPPING_BUFFERS: fl_status = 16;
/// An error of the Rust crate this version of the C API has no code for. Not returned by
/// this version: every error its functions can meet has its own code.
pub const FL_UNKNOWN_ERROR: fl_status = 17;

/// Which argument an `fl_error` is about.
pub type fl_operand = u32;

/// No particular argument.
pub const FL_OPERAND_NONE: fl_operand = 0;
/// The configuration struct (its hyper-parameters, kernel or layout).
pub const FL_OPERAND_CONFIG: fl_operand = 1;
/// The logits.
pub const FL_OPERAND_LOGITS: fl_operand = 2;
/// The targets.
pub const FL_OPERAND_TARGETS: fl_operand = 3;
/// The per-element weights.
pub const FL_OPERAND_WEIGHTS: fl_operand = 4;
/// The per-element loss output.
pub const FL_OPERAND_OUT: fl_operand = 5;
/// The gradient output.
pub const FL_OPERAND_GRAD: fl_operand = 6;
/// The per-class alpha of the softmax configuration.
pub const FL_OPERAND_ALPHA: fl_operand = 7;
/// The reduction.
pub const FL_OPERAND_REDUCTION: fl_operand = 8;
/// The pointer the reduced loss is written to.
pub const FL_OPERAND_LOSS: fl_operand = 9;

/// The details of a failed call, written through the optional `error` argument (NULL: not
/// written). On success it is written too, with `status` `FL_OK` and every field 0.
///
/// Which fields a status sets is said at its code; the others are 0.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct fl_error {
    /// The status the function returned.
    pub status: fl_status,
    /// The argument at fault.
    pub operand: fl_operand,
    /// The first bad element: a target, weight or logit index, a class (per-class alpha) or a
    /// row (soft targets).
    pub index: usize,
    /// The bad floating-point value: gamma, alpha, a target, a weight, a normaliser, a row sum, or
    /// NaN for a NaN logit.
    pub value: f32,
    /// The bad integer value: a class index, a number of classes, a spatial size, or an
    /// option value (saturated to `INT64_MAX`).
    pub int_value: i64,
    /// The expected length (`FL_LENGTH_MISMATCH`), row size (`FL_LOGITS_SHAPE`) or number of
    /// classes (`FL_CLASS_OUT_OF_RANGE`).
    pub expected: usize,
    /// The length found (`FL_LENGTH_MISMATCH`) or the logits length (`FL_LOGITS_SHAPE`).
    pub found: usize,
}

impl fl_error {
    /// Success: status `FL_OK`, every field 0.
    pub const OK: Self = Self::new(FL_OK, FL_OPERAND_NONE);

    /// `status` about `operand`, the other fields 0.
    pub(crate) const fn new(status: fl_status, operand: fl_operand) -> Self {
        fl_error {
            status,
            operand,
            index: 0,
            value: 0.0,
            int_value: 0,
            expected: 0,
            found: 0,
        }
    }

    /// `FL_NULL_POINTER` for `operand`.
    pub(crate) const fn null(operand: fl_operand) -> Self {
        Self::new(FL_NULL_POINTER, operand)
    }

    /// `FL_INVALID_OPTION` for `value` of `operand`.
    pub(crate) fn option(operand: fl_operand, value: u32) -> Self {
        Self {
            int_value: i64::from(value),
            ..Self::new(FL_INVALID_OPTION, operand)
        }
    }
}

/// A length or count as `int_value`, saturated.
fn int(v: usize) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The operand code of a slice the Rust crate names.
fn operand(op: Operand) -> fl_operand {
    match op {
        Operand::Targets => FL_OPERAND_TARGETS,
        Operand::Weights => FL_OPERAND_WEIGHTS,
        Operand::Output => FL_OPERAND_OUT,
        Operand::Grad => FL_OPERAND_GRAD,
        Operand::Alpha => FL_OPERAND_ALPHA,
        _ => FL_OPERAND_NONE,
    }
}

impl From<FocalError> for fl_error {
    fn from(e: FocalError) -> Self {
        let with = |status, operand| Self::new(status, operand);
        match e {
            FocalError::InvalidGamma { gamma } => fl_error {
                value: gamma,
                ..with(FL_INVALID_GAMMA, FL_OPERAND_CONFIG)
            },
            FocalError::InvalidAlpha { alpha } => fl_error {
                value: alpha,
                ..with(FL_INVALID_ALPHA, FL_OPERAND_CONFIG)
            },
            FocalError::LengthMismatch {
                operand: op,
                expected,
                found,
            } => fl_error {
                expected,
                found,
                ..with(FL_LENGTH_MISMATCH, operand(op))
            },
            FocalError::InvalidTarget { index, value } => fl_error {
                index,
                value,
                ..with(FL_INVALID_TARGET, FL_OPERAND_TARGETS)
            },
            FocalError::InvalidWeight { index, value } => fl_error {
                index,
                value,
                ..with(FL_INVALID_WEIGHT, FL_OPERAND_WEIGHTS)
            },
            FocalError::InvalidNormalizer { value } => fl_error {
                value,
                ..with(FL_INVALID_NORMALIZER, FL_OPERAND_REDUCTION)
            },
            FocalError::NonFiniteLogit { index } => fl_error {
                index,
                value: f32::NAN,
                ..with(FL_NON_FINITE_LOGIT, FL_OPERAND_LOGITS)
            },
            FocalError::InvalidNumClasses { num_classes } => fl_error {
                int_value: int(num_classes),
                ..with(FL_INVALID_NUM_CLASSES, FL_OPERAND_CONFIG)
            },
            FocalError::InvalidSpatial { spatial } => fl_error {
                int_value: int(spatial),
                ..with(FL_INVALID_SPATIAL, FL_OPERAND_CONFIG)
            },
            FocalError::LogitsShape { len, row } => fl_error {
                expected: row,
                found: len,
                ..with(FL_LOGITS_SHAPE, FL_OPERAND_LOGITS)
            },
            FocalError::ClassOutOfRange {
                index,
                value,
                num_classes,
            } => fl_error {
                index,
                int_value: value,
                expected: num_classes,
                ..with(FL_CLASS_OUT_OF_RANGE, FL_OPERAND_TARGETS)
            },
            FocalError::InvalidClassAlpha { class, value } => fl_error {
                index: class,
                value,
                ..with(FL_INVALID_CLASS_ALPHA, FL_OPERAND_ALPHA)
            },
            FocalError::TargetRowSum { row, sum } => fl_error {
                index: row,
                value: sum,
                ..with(FL_TARGET_ROW_SUM, FL_OPERAND_TARGETS)
            },
            // The `train` feature's errors (no function here trains) and any later variant.
            _ => with(FL_UNKNOWN_ERROR, FL_OPERAND_NONE),
        }
    }
}

/// A static, NUL-terminated English message for `status` ("unknown status code" for a
/// value that is no code). Never NULL; the caller must not free it.
#[allow(unsafe_code)] // `no_mangle`: the C name.
#[unsafe(no_mangle)]
pub extern "C" fn fl_status_str(status: fl_status) -> *const c_char {
    let message = match status {
        FL_OK => c"success",
        FL_INVALID_GAMMA => c"gamma must be finite and >= 0",
        FL_INVALID_ALPHA => c"alpha must be in [0, 1]",
        FL_LENGTH_MISMATCH => c"a buffer does not have the length the logits require",
        FL_INVALID_TARGET => c"a target is outside [0, 1] (a uint8_t target is not 0 or 1)",
        FL_INVALID_WEIGHT => c"a weight is not a finite value >= 0",
        FL_INVALID_NORMALIZER => c"the MeanOver normaliser must be finite and > 0",
        FL_NON_FINITE_LOGIT => c"a logit is NaN",
        FL_INVALID_NUM_CLASSES => c"num_classes must be in 1..=2^24",
        FL_INVALID_SPATIAL => {
            c"channels-first spatial size must be >= 1 with C * spatial in size_t"
        }
        FL_LOGITS_SHAPE => c"the logits length is not a multiple of the row size",
        FL_CLASS_OUT_OF_RANGE => c"a target is not a class in 0..num_classes nor the ignore index",
        FL_INVALID_CLASS_ALPHA => c"a per-class alpha is not a finite value >= 0",
        FL_TARGET_ROW_SUM => c"a row of soft targets does not sum to 1",
        FL_NULL_POINTER => c"a pointer that must not be NULL is NULL",
        FL_INVALID_OPTION => c"a kernel, layout or reduction kind is none of its constants",
        FL_OVERLAPPING_BUFFERS => c"an output buffer overlaps an input buffer",
        FL_UNKNOWN_ERROR => c"an error this version of the C API has no code for",
        _ => c"unknown status code",
    };
    message.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_maps_to_its_own_code() {
        let errors = [
            FocalError::InvalidGamma { gamma: -1.0 },
            FocalError::InvalidAlpha { alpha: 2.0 },
            FocalError::LengthMismatch {
                operand: Operand::Grad,
                expected: 3,
                found: 2,
            },
            FocalError::InvalidTarget {
                index: 1,
                value: 2.0,
            },
            FocalError::InvalidWeight {
                index: 1,
                value: -1.0,
            },
            FocalError::InvalidNormalizer { value: 0.0 },
            FocalError::NonFiniteLogit { index: 4 },
            FocalError::InvalidNumClasses { num_classes: 0 },
            FocalError::InvalidSpatial { spatial: 0 },
            FocalError::LogitsShape { len: 5, row: 2 },
            FocalError::ClassOutOfRange {
                index: 0,
                value: -3,
                num_classes: 2,
            },
            FocalError::InvalidClassAlpha {
                class: 1,
                value: f32::NAN,
            },
            FocalError::TargetRowSum { row: 2, sum: 0.5 },
        ];
        for (code, e) in (1..).zip(errors) {
            assert_eq!(fl_error::from(e).status, code, "{e:?}");
        }
        let grad = fl_error::from(errors[2]);
        assert_eq!(
            (grad.operand, grad.expected, grad.found),
            (FL_OPERAND_GRAD, 3, 2)
        );
        let class = fl_error::from(errors[10]);
        assert_eq!((class.index, class.int_value, class.expected), (0, -3, 2));
    }

    #[test]
    fn every_code_has_its_own_message() {
        let message = |code| {
            // SAFETY: `fl_status_str` returns a pointer to a static NUL-terminated string.
            #[allow(unsafe_code)]
            unsafe {
                core::ffi::CStr::from_ptr(fl_status_str(code))
            }
        };
        let unknown = message(-1);
        for code in FL_OK..=FL_UNKNOWN_ERROR {
            assert_ne!(message(code), unknown, "code {code}");
            for other in FL_OK..code {
                assert_ne!(message(code), message(other), "codes {code} and {other}");
            }
        }
        assert_eq!(message(FL_UNKNOWN_ERROR + 1), unknown);
    }
}
