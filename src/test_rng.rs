//! A xorshift for the crate's own unit tests (the `train` feature's `Rng` is not always
//! built, and `testkit` depends on this crate).

/// The xorshift32 sequence from `seed` (non-zero).
pub(crate) fn xorshift(mut state: u32) -> impl FnMut() -> u32 {
    move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    }
}
