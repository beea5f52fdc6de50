//! The dispatch level of a bench or example run, from the environment:
//! `FOCAL_LOSS_DISPATCH=baseline|avx2|avx512` caps [`focal_loss::dispatch`]'s level (unset:
//! the best the CPU has), so that one default build measures what CPUs of each kind get.

use focal_loss::dispatch::{self, Level};

/// The variable read by [`apply`].
pub const VARIABLE: &str = "FOCAL_LOSS_DISPATCH";

/// Applies `FOCAL_LOSS_DISPATCH` (if set) and returns the level now active; prints it to
/// stderr. Panics on a value that names no level, so a typo cannot measure the wrong thing.
pub fn apply() -> Level {
    let cap = std::env::var(VARIABLE).ok().map(|v| match v.as_str() {
        "baseline" => Level::Baseline,
        "avx2" => Level::Avx2,
        "avx512" => Level::Avx512,
        other => panic!("{VARIABLE}={other}: expected baseline, avx2 or avx512"),
    });
    let active = dispatch::force(cap);
    if cap.is_some_and(|cap| cap != active) {
        eprintln!("{VARIABLE}: this CPU lacks {cap:?}; running {active:?}");
    }
    eprintln!("focal-loss dispatch level: {active:?}");
    active
}
