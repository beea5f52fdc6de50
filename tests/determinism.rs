//! `Kernel::Simd` gives the same bits for any slice length, split, alignment and instruction
//! set, for the sigmoid and the softmax forms. The last property is checked by a digest of a fixed workload committed in
//! `tests/data/simd_digest.txt`: `cargo xtask test` runs this file in an SSE2 build and an
//! AVX2 + FMA build, and both must reproduce it (as must every other target).
//!
//! To regenerate the digest after a deliberate change of the numerics:
//! `FOCAL_BLESS=1 cargo test --test determinism`.

use focal_loss::{Layout, Reduction, SigmoidFocal, SoftmaxFocal, approx};

fn workload(n: usize, seed: u32) -> (Vec<f32>, Vec<f32>) {
    let mut s = seed;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        s
    };
    let mut x: Vec<f32> = (0..n)
        .map(|_| (next() % 200_001) as f32 / 1000.0 - 100.0)
        .collect();
    for (i, v) in x.iter_mut().enumerate().step_by(97) {
        *v = [f32::INFINITY, f32::NEG_INFINITY, 0.0, -0.0][i % 4];
    }
    let t = (0..n)
        .map(|_| match next() % 10 {
            0 => 1.0,
            1 => (next() % 1001) as f32 / 1000.0,
            _ => 0.0,
        })
        .collect();
    (x, t)
}

const GAMMAS: [f32; 7] = [0.0, 0.5, 1.0, 2.0, 2.5, 3.0, 5.0];

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

/// FNV-1a over the bits of everything the SIMD kernel computes for a fixed workload.
fn digest() -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut eat = |v: f32| {
        for b in v.to_bits().to_le_bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    for n in [1usize, 8, 13, 1000] {
        let (x, t) = workload(n, n as u32 * 31 + 1);
        for g in GAMMAS {
            for alpha in [None, Some(0.25)] {
                let fl = SigmoidFocal::new(g, alpha).unwrap();
                let mut out = vec![0.0f32; n];
                fl.loss_per_element(&x, &t, &mut out).unwrap();
                out.iter().for_each(|&v| eat(v));
                let loss = fl.loss_and_grad(&x, &t, Reduction::Mean, &mut out).unwrap();
                eat(loss);
                out.iter().for_each(|&v| eat(v));
            }
        }
    }
    for i in -2000..=2000 {
        let v = i as f32 * 0.05123;
        eat(approx::exp(v));
        eat(approx::ln(v.abs()));
    }
    for c in [3usize, 10] {
        let (x, _) = workload(c * 37, c as u32);
        let x: Vec<f32> = x.iter().map(|v| v * 0.3).collect();
        let targets: Vec<u16> = (0..37).map(|i| (i * 7 % c) as u16).collect();
        // Label-smoothed targets, row-major, and the same rows channels-first.
        let soft_rm: Vec<f32> = (0..x.len())
            .map(|i| {
                if i % c == i / c % c {
                    0.9
                } else {
                    0.1 / (c - 1) as f32
                }
            })
            .collect();
        let soft_cf: Vec<f32> = (0..x.len())
            .map(|i| soft_rm[(i % 37) * c + i / 37])
            .collect();
        for g in [0.0f32, 2.0, 2.5] {
            let alpha: Vec<f32> = (0..c).map(|j| 0.5 + j as f32 * 0.1).collect();
            let fl = SoftmaxFocal::new(c, g).unwrap().with_alpha(&alpha).unwrap();
            let cf = fl
                .with_layout(Layout::ChannelsFirst { spatial: 37 })
                .unwrap();
            for (fl, soft) in [(fl, &soft_rm), (cf, &soft_cf)] {
                let mut grad = vec![0.0f32; x.len()];
                eat(fl
                    .loss_and_grad(&x, &targets, Reduction::Mean, &mut grad)
                    .unwrap());
                grad.iter().for_each(|&v| eat(v));
                eat(fl
                    .loss_and_grad(&x, soft, Reduction::Sum, &mut grad)
                    .unwrap());
                grad.iter().for_each(|&v| eat(v));
            }
        }
    }
    h
}

#[test]
fn simd_bits_match_committed_digest() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/simd_digest.txt");
    let got = format!("{:016x}", digest());
    if std::env::var_os("FOCAL_BLESS").is_some() {
        std::fs::write(path, format!("{got}\n")).unwrap();
    }
    let want = std::fs::read_to_string(path).expect("tests/data/simd_digest.txt is missing");
    assert_eq!(
        got,
        want.trim(),
        "Kernel::Simd bits differ from the committed digest"
    );
}
