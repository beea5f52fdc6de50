//! `Kernel::Simd` gives the same bits for any slice length, split, alignment and instruction
//! set, for the sigmoid and the softmax forms and the variants. The last property is checked by a digest of a fixed workload committed in
//! `tests/data/simd_digest.txt`: every runtime dispatch level this CPU has must reproduce it
//! (SSE2, AVX2, AVX-512F on x86-64), and `cargo xtask test` also runs this file in an AVX2 +
//! FMA build and with eight and one lanes (as every other target must reproduce it too).
//!
//! To regenerate the digest after a deliberate change of the numerics:
//! `FOCAL_BLESS=1 cargo test --test determinism`.

use focal_loss::dispatch::{self, Level};
use focal_loss::{Reduction, SigmoidFocal};

use testkit::digest::{self, GAMMAS, digest};

fn workload(n: usize, seed: u32) -> (Vec<f32>, Vec<f32>) {
    let (mut x, mut t) = (vec![0.0f32; n], vec![0.0f32; n]);
    digest::workload(&mut x, &mut t, seed);
    (x, t)
}

#[test]
fn per_element_bits_do_not_depend_on_split_or_offset() {
    let (x, t) = workload(203, 7);
    for g in GAMMAS {
        let fl = SigmoidFocal::new(g, Some(0.25)).unwrap();
        let mut whole = vec![0.0f32; x.len()];
        let mut whole_grad = vec![0.0f32; x.len()];
        fl.loss_per_element(&x, &t, &mut whole).unwrap();
        fl.loss_and_grad(&x, &t, Reduction::Sum, &mut whole_grad)
            .unwrap();
        for split in [1, 3, 7, 8, 9, 64, 101, 202] {
            let mut parts = vec![0.0f32; x.len()];
            let mut parts_grad = vec![0.0f32; x.len()];
            for (lo, hi) in [(0, split), (split, x.len())] {
                fl.loss_per_element(&x[lo..hi], &t[lo..hi], &mut parts[lo..hi])
                    .unwrap();
                fl.loss_and_grad(
                    &x[lo..hi],
                    &t[lo..hi],
                    Reduction::Sum,
                    &mut parts_grad[lo..hi],
                )
                .unwrap();
            }
            assert!(
                whole
                    .iter()
                    .zip(&parts)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "γ={g} split={split}"
            );
            assert!(
                whole_grad
                    .iter()
                    .zip(&parts_grad)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "γ={g} split={split}"
            );
        }
    }
}

#[test]
fn variant_bits_do_not_depend_on_split() {
    let (x, mut t) = workload(203, 5);
    // (The normalised loss divides by its slice's normaliser: a split changes it by
    // definition.)
    for config in digest::VARIANTS
        .into_iter()
        .filter(|c| !matches!(c, testkit::vectors::VariantConfig::Normalized { .. }))
    {
        if matches!(config, testkit::vectors::VariantConfig::Asymmetric { .. }) {
            t.iter_mut().for_each(|t| *t = t.round());
        }
        let run = |x: &[f32], t: &[f32], loss: &mut [f32], grad: &mut [f32]| {
            config
                .run(focal_loss::Kernel::Simd, x, t, loss, grad)
                .unwrap()
        };
        let (mut loss, mut grad) = (vec![0.0f32; x.len()], vec![0.0f32; x.len()]);
        run(&x, &t, &mut loss, &mut grad);
        for split in [1, 7, 16, 17, 101] {
            let (mut l2, mut g2) = (vec![0.0f32; x.len()], vec![0.0f32; x.len()]);
            for (lo, hi) in [(0, split), (split, x.len())] {
                run(&x[lo..hi], &t[lo..hi], &mut l2[lo..hi], &mut g2[lo..hi]);
            }
            let same =
                |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(
                same(&loss, &l2) && same(&grad, &g2),
                "{config:?} split={split}"
            );
        }
    }
}

#[test]
fn reduced_bits_do_not_depend_on_memory_alignment() {
    let (x, t) = workload(517, 11);
    let fl = SigmoidFocal::RETINANET;
    let want = fl.loss(&x, &t, Reduction::Mean).unwrap();
    for offset in 1..9 {
        let mut xs = vec![0.0f32; offset];
        xs.extend_from_slice(&x);
        let mut ts = vec![0.0f32; offset];
        ts.extend_from_slice(&t);
        let got = fl
            .loss(&xs[offset..], &ts[offset..], Reduction::Mean)
            .unwrap();
        assert_eq!(got.to_bits(), want.to_bits(), "offset {offset}");
    }
}

/// The digest's subnormal case is one: its losses and the blocked sum's partial sums (lane `k`
/// of the accumulators adds elements `k` and `k + 8` to +0) are subnormal, and their total
/// is the pairs' sum, so a target that flushed subnormals on the path would change the digest.
#[test]
fn digest_subnormal_case_has_subnormal_losses_and_partial_sums() {
    let (mut x, mut t, mut losses) = ([0.0f32; 16], [0.0f32; 16], [0.0f32; 16]);
    digest::subnormal_case(&mut x, &mut t);
    let fl = SigmoidFocal::new(digest::SUBNORMAL_GAMMA, None).unwrap();
    fl.loss_per_element(&x, &t, &mut losses).unwrap();
    let subnormal = |v: f32| v > 0.0 && v < f32::MIN_POSITIVE;
    assert!(losses.iter().all(|&l| subnormal(l)), "{losses:?}");
    let lanes: Vec<f32> = (0..8).map(|k| 0.0 + losses[k] + losses[k + 8]).collect();
    assert!(lanes.iter().all(|&s| subnormal(s)), "{lanes:?}");
    // The total: the lanes in order through the compensated pair, exact here (all terms are
    // multiples of the smallest subnormal, far from overflowing the significand).
    let total = fl.loss(&x, &t, Reduction::Sum).unwrap();
    assert_eq!(total, lanes.iter().sum::<f32>());
}

/// The committed digests, whole and of the forms alone (the C API's test reproduces the
/// latter), written first when `FOCAL_BLESS` is set, from the best level.
fn committed_digests() -> [String; 2] {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/");
    [
        ("simd_digest.txt", digest()),
        ("forms_digest.txt", digest::forms_digest()),
    ]
    .map(|(file, value)| {
        let path = format!("{dir}{file}");
        if std::env::var_os("FOCAL_BLESS").is_some() {
            std::fs::write(&path, format!("{value:016x}\n")).unwrap();
        }
        let want = std::fs::read_to_string(&path).expect("a committed digest is missing");
        want.trim().to_owned()
    })
}

/// Every dispatch level this CPU has (one test, so no other test changes the cap meanwhile).
#[test]
fn simd_bits_match_committed_digest_at_every_dispatch_level() {
    let [want, want_forms] = committed_digests();
    let best = dispatch::detected();
    let levels = [Level::Baseline, Level::Avx2, Level::Avx512];
    for level in levels.into_iter().filter(|&l| l <= best) {
        assert_eq!(dispatch::force(Some(level)), level);
        let got = format!("{:016x}", digest());
        assert_eq!(
            got, want,
            "Kernel::Simd bits at {level:?} differ from the committed digest"
        );
        let got = format!("{:016x}", digest::forms_digest());
        assert_eq!(
            got, want_forms,
            "Kernel::Simd bits at {level:?} differ from the committed forms digest"
        );
    }
    dispatch::force(None);
    println!("checked the levels up to {best:?}");
}
