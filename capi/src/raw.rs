//! Raw pointers from C to Rust references: the only place that makes slices from pointers.
//!
//! The contract every exported function states in the header: each pointer is NULL or
//! valid for its length (aligned, initialised, not written by anyone else during the call);
//! the outputs are checked here not to overlap the inputs.

#![allow(unsafe_code)]

use crate::status::{FL_OVERLAPPING_BUFFERS, fl_error, fl_operand, fl_status};

/// An input buffer: a pointer from C and its length in elements.
#[derive(Clone, Copy)]
pub(crate) struct In<T>(pub *const T, pub usize);

/// An output buffer: a pointer from C and its length in elements.
#[derive(Clone, Copy)]
pub(crate) struct Out<T>(pub *mut T, pub usize);

impl<T> In<T> {
    /// The buffer as a slice: empty for length 0 (whatever the pointer), `FL_NULL_POINTER`
    /// for `operand` when NULL with a non-zero length.
    ///
    /// # Safety
    /// A non-NULL pointer must be valid for reads of the length's elements for `'a`, and
    /// nothing may write them meanwhile.
    pub(crate) unsafe fn slice<'a>(self, operand: fl_operand) -> Result<&'a [T], fl_error> {
        let In(ptr, len) = self;
        if len == 0 {
            return Ok(&[]);
        }
        if ptr.is_null() {
            return Err(fl_error::null(operand));
        }
        // SAFETY: not NULL, and valid for `len` reads that nothing writes during `'a` (this
        // function's contract, which the caller passes on from C's).
        Ok(unsafe { core::slice::from_raw_parts(ptr, len) })
    }
}

impl<T> Out<T> {
    /// The buffer as a mutable slice, like [`In::slice`], after checking that its bytes are
    /// disjoint from every input's (`FL_OVERLAPPING_BUFFERS` for `operand` if not).
    ///
    /// # Safety
    /// A non-NULL pointer must be valid for reads and writes of the length's elements for
    /// `'a`, and nothing may access them meanwhile except through the inputs whose
    /// [`span`]s are `inputs`.
    pub(crate) unsafe fn slice<'a>(
        self,
        operand: fl_operand,
        inputs: &[Span],
    ) -> Result<&'a mut [T], fl_error> {
        let Out(ptr, len) = self;
        if len == 0 {
            return Ok(&mut []);
        }
        if ptr.is_null() {
            return Err(fl_error::null(operand));
        }
        let (start, end) = bytes(ptr.addr(), len.saturating_mul(size_of::<T>()));
        for &Span(a, b) in inputs {
            if a < b && a < end && start < b {
                return Err(fl_error::new(FL_OVERLAPPING_BUFFERS, operand));
            }
        }
        // SAFETY: not NULL, valid for `len` reads and writes during `'a`, and (just checked)
        // not overlapping any input slice, the only other accesses (the contract).
        Ok(unsafe { core::slice::from_raw_parts_mut(ptr, len) })
    }
}

/// The bytes a slice covers, `start..end` as addresses.
#[derive(Clone, Copy)]
pub(crate) struct Span(usize, usize);

/// `start..start + len` as a pair, saturated.
fn bytes(start: usize, len: usize) -> (usize, usize) {
    (start, start.saturating_add(len))
}

/// The [`Span`] of `s` (empty for an empty slice).
pub(crate) fn span<T>(s: &[T]) -> Span {
    let (start, end) = bytes(s.as_ptr().addr(), size_of_val(s));
    Span(start, end)
}

/// A reference to the configuration, or `FL_NULL_POINTER`.
///
/// # Safety
/// A non-NULL pointer must point to an initialised `T` that nothing writes during `'a`.
pub(crate) unsafe fn config<'a, T>(ptr: *const T, operand: fl_operand) -> Result<&'a T, fl_error> {
    // SAFETY: NULL or pointing to a valid `T` nothing writes during `'a` (the contract).
    unsafe { ptr.as_ref() }.ok_or(fl_error::null(operand))
}

/// `FL_NULL_POINTER` for `operand` if `ptr` is NULL.
pub(crate) fn non_null<T>(ptr: *mut T, operand: fl_operand) -> Result<(), fl_error> {
    match ptr.is_null() {
        true => Err(fl_error::null(operand)),
        false => Ok(()),
    }
}

/// Writes `value` through `ptr`, checked not to be NULL by [`non_null`].
///
/// # Safety
/// `ptr` must be valid for a write of a `T` (aligned; any overlap with the inputs is harmless,
/// they are no longer read).
pub(crate) unsafe fn write<T>(ptr: *mut T, value: T) {
    if !ptr.is_null() {
        // SAFETY: not NULL and valid for a write (the contract); no reference to it exists.
        unsafe { ptr.write(value) }
    }
}

/// Writes the outcome to `error` (when not NULL) and returns its status.
///
/// # Safety
/// `error` must be NULL or valid for a write of an `fl_error`.
pub(crate) unsafe fn report(result: Result<(), fl_error>, error: *mut fl_error) -> fl_status {
    let details = match result {
        Ok(()) => fl_error::OK,
        Err(e) => e,
    };
    // SAFETY: NULL (then not written) or valid for a write (the contract).
    unsafe { write(error, details) };
    details.status
}
