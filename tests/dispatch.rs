//! The runtime dispatch level: the crate's own CPU check (CPUID and XCR0, no `std`) agrees
//! with `std`'s, and `force` caps the level without exceeding what the CPU has.
//! (That every level computes the same bits is `tests/determinism.rs`'s digest test.)

use focal_loss::dispatch::{self, Level};

/// What `std::is_x86_feature_detected!` says the SIMD kernels may use.
fn std_level() -> Level {
    #[cfg(all(target_arch = "x86_64", not(focal_loss_lanes8), not(focal_loss_lanes1)))]
    {
        if std::is_x86_feature_detected!("avx512f") {
            return Level::Avx512;
        }
        if std::is_x86_feature_detected!("avx2") {
            return Level::Avx2;
        }
    }
    Level::Baseline
}

#[test]
fn detection_agrees_with_std_and_force_caps_it() {
    let best = dispatch::detected();
    assert_eq!(best, std_level());
    assert_eq!(dispatch::force(Some(Level::Baseline)), Level::Baseline);
    assert_eq!(dispatch::active(), Level::Baseline);
    assert_eq!(dispatch::force(Some(Level::Avx2)), best.min(Level::Avx2));
    assert_eq!(dispatch::force(Some(Level::Avx512)), best);
    assert_eq!(dispatch::force(None), best);
    assert_eq!(dispatch::active(), best);
}
