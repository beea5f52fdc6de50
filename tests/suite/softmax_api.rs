//! The public behaviour of `SoftmaxFocal`: errors, ignore index and `Mean`, layouts, target
//! types, soft targets, equivalences with cross-entropy and with the sigmoid form, limits.

use focal_loss::{FocalError, Kernel, Layout, Operand, Reduction, SigmoidFocal, SoftmaxFocal};
use testkit::softmax::reference;

const KERNELS: [Kernel; 2] = [Kernel::Simd, Kernel::Libm];

fn batch(n: usize, c: usize, seed: u32) -> (Vec<f32>, Vec<i64>) {
    let mut s = seed;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        s
    };
    let x = (0..n * c)
        .map(|_| (next() % 16_001) as f32 / 1000.0 - 8.0)
        .collect();
    let t = (0..n).map(|_| i64::from(next() % c as u32)).collect();
    (x, t)
}

#[test]
fn bad_configuration() {
    assert_eq!(
        SoftmaxFocal::new(0, 2.0),
        Err(FocalError::InvalidNumClasses { num_classes: 0 })
    );
    // One class: p = 1 whatever the logits (it gave loss 0 and gradient −0 for any input).
    assert_eq!(
        SoftmaxFocal::new(1, 2.0),
        Err(FocalError::InvalidNumClasses { num_classes: 1 })
    );
    assert!(SoftmaxFocal::new(2, 2.0).is_ok());
    let fl = SoftmaxFocal::new(3, 2.0).unwrap().with_ignore_index(-100);
    assert_eq!(
        fl.with_gamma(0.5).map(|f| (f.gamma(), f.ignore_index())),
        Ok((0.5, Some(-100)))
    );
    assert_eq!(
        fl.with_gamma(-0.5),
        Err(FocalError::InvalidGamma { gamma: -0.5 })
    );
    assert_eq!(
        SoftmaxFocal::new((1 << 24) + 1, 2.0),
        Err(FocalError::InvalidNumClasses {
            num_classes: (1 << 24) + 1
        })
    );
    assert_eq!(
        SoftmaxFocal::new(3, -1.0),
        Err(FocalError::InvalidGamma { gamma: -1.0 })
    );
    assert!(matches!(
        SoftmaxFocal::new(3, f32::NAN),
        Err(FocalError::InvalidGamma { .. })
    ));
    let fl = SoftmaxFocal::new(3, 2.0).unwrap();
    assert_eq!(
        fl.with_alpha(&[1.0, 1.0]),
        Err(FocalError::LengthMismatch {
            operand: Operand::Alpha,
            expected: 3,
            found: 2
        })
    );
    assert_eq!(
        fl.with_alpha(&[1.0, -0.5, 1.0]),
        Err(FocalError::InvalidClassAlpha {
            class: 1,
            value: -0.5
        })
    );
    assert!(matches!(
        fl.with_alpha(&[1.0, 1.0, f32::NAN]),
        Err(FocalError::InvalidClassAlpha { class: 2, .. })
    ));
    assert_eq!(
        fl.with_layout(Layout::ChannelsFirst { spatial: 0 }),
        Err(FocalError::InvalidSpatial { spatial: 0 })
    );
    // C · spatial must fit in usize (it did not, and a later call overflowed).
    let huge = usize::MAX / 2;
    assert_eq!(
        fl.with_layout(Layout::ChannelsFirst { spatial: huge }),
        Err(FocalError::InvalidSpatial { spatial: huge })
    );
    assert!(
        fl.with_layout(Layout::ChannelsFirst {
            spatial: usize::MAX / 3
        })
        .is_ok()
    );
}

#[test]
fn bad_inputs() {
    for kernel in KERNELS {
        let fl = SoftmaxFocal::new(3, 2.0)
            .unwrap()
            .with_kernel(kernel)
            .with_ignore_index(-100);
        let x = [0.0f32; 6];
        assert_eq!(
            fl.loss(&x[..5], &[0i64], Reduction::Sum),
            Err(FocalError::LogitsShape { len: 5, row: 3 })
        );
        assert_eq!(
            fl.loss(&x, &[0i64], Reduction::Sum),
            Err(FocalError::LengthMismatch {
                operand: Operand::Targets,
                expected: 2,
                found: 1
            })
        );
        assert_eq!(
            fl.loss(&x, &[0i64, 3], Reduction::Sum),
            Err(FocalError::ClassOutOfRange {
                index: 1,
                value: 3,
                num_classes: 3
            })
        );
        assert_eq!(
            fl.loss(&x, &[-1i64, 0], Reduction::Sum),
            Err(FocalError::ClassOutOfRange {
                index: 0,
                value: -1,
                num_classes: 3
            })
        );
        assert_eq!(
            fl.loss_per_element(&x, &[0u8, 1], &mut [0.0; 3]),
            Err(FocalError::LengthMismatch {
                operand: Operand::Output,
                expected: 2,
                found: 3
            })
        );
        assert_eq!(
            fl.loss_and_grad(&x, &[0u8, 1], Reduction::Sum, &mut [0.0; 5]),
            Err(FocalError::LengthMismatch {
                operand: Operand::Grad,
                expected: 6,
                found: 5
            })
        );
        // Lengths before targets, as documented: a short output wins over a bad class.
        assert_eq!(
            fl.loss_and_grad(&x, &[0u8, 7], Reduction::Sum, &mut [0.0; 5]),
            Err(FocalError::LengthMismatch {
                operand: Operand::Grad,
                expected: 6,
                found: 5
            })
        );
        assert!(matches!(
            fl.loss_per_element(&x, &[9u8, 1], &mut [0.0; 1]),
            Err(FocalError::LengthMismatch {
                operand: Operand::Output,
                ..
            })
        ));
        assert!(matches!(
            fl.loss(&x, &[0u8, 1], Reduction::MeanOver(0.0)),
            Err(FocalError::InvalidNormalizer { .. })
        ));
        let mut nan = x;
        nan[4] = f32::NAN;
        assert_eq!(
            fl.loss(&nan, &[0u8, 1], Reduction::Sum),
            Err(FocalError::NonFiniteLogit { index: 4 })
        );
        // Even in an ignored row.
        assert_eq!(
            fl.loss_and_grad(&nan, &[0i64, -100], Reduction::Sum, &mut [0.0; 6]),
            Err(FocalError::NonFiniteLogit { index: 4 })
        );
        // Soft targets: range and row sums.
        let soft = [0.5f32, 0.5, 0.0, 0.2, 0.2, 0.2];
        assert!(matches!(
            fl.loss(&x, &soft, Reduction::Sum),
            Err(FocalError::TargetRowSum { row: 1, .. })
        ));
        let soft = [0.5f32, 0.5, 0.0, 1.5, -0.5, 0.0];
        assert_eq!(
            fl.loss(&x, &soft, Reduction::Sum),
            Err(FocalError::InvalidTarget {
                index: 3,
                value: 1.5
            })
        );
        assert!(matches!(
            fl.loss(&x, &[0.5f32, 0.5, 0.0], Reduction::Sum),
            Err(FocalError::LengthMismatch {
                operand: Operand::Targets,
                expected: 6,
                found: 3
            })
        ));
    }
}

#[test]
fn ignored_targets_contribute_nothing_and_mean_counts_the_rest() {
    let (x, mut t) = batch(37, 5, 3);
    for (i, v) in t.iter_mut().enumerate() {
        if i % 3 == 0 {
            *v = -100;
        }
    }
    let counted = t.iter().filter(|&&v| v != -100).count();
    for kernel in KERNELS {
        let fl = SoftmaxFocal::new(5, 2.0)
            .unwrap()
            .with_kernel(kernel)
            .with_ignore_index(-100);
        let mut out = vec![0.0f32; 37];
        fl.loss_per_element(&x, &t, &mut out).unwrap();
        let sum: f64 = out.iter().map(|&v| f64::from(v)).sum();
        let mut grad = vec![1.0f32; x.len()];
        let mean = fl
            .loss_and_grad(&x, &t, Reduction::Mean, &mut grad)
            .unwrap();
        assert!((f64::from(mean) - sum / counted as f64).abs() <= 1e-6 * f64::from(mean));
        for r in 0..37 {
            if t[r] == -100 {
                assert_eq!(out[r], 0.0);
                assert!(grad[r * 5..r * 5 + 5].iter().all(|&g| g.to_bits() == 0));
            } else {
                let (_, want) = reference::hard(&x[r * 5..r * 5 + 5], t[r] as usize, 2.0, 1.0);
                for j in 0..5 {
                    let w = want[j] / counted as f64;
                    assert!((f64::from(grad[r * 5 + j]) - w).abs() <= 1e-6 * w.abs() + 1e-12);
                }
            }
        }
        // Everything ignored: 0 and zero gradients, never NaN.
        let all = vec![-100i64; 37];
        let mut g = vec![1.0f32; x.len()];
        assert_eq!(fl.loss_and_grad(&x, &all, Reduction::Mean, &mut g), Ok(0.0));
        assert!(g.iter().all(|&v| v == 0.0));
    }
}

#[test]
fn class_index_types_give_identical_bits() {
    let (x, t) = batch(21, 7, 5);
    let fl = SoftmaxFocal::new(7, 2.0).unwrap();
    let run = |f: &dyn Fn(&mut [f32]) -> f32| {
        let mut g = vec![0.0f32; x.len()];
        let l = f(&mut g);
        (
            l.to_bits(),
            g.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        )
    };
    let want = run(&|g| fl.loss_and_grad(&x, &t, Reduction::Mean, g).unwrap());
    let t32: Vec<i32> = t.iter().map(|&v| v as i32).collect();
    let tu32: Vec<u32> = t.iter().map(|&v| v as u32).collect();
    let t16: Vec<u16> = t.iter().map(|&v| v as u16).collect();
    let t8: Vec<u8> = t.iter().map(|&v| v as u8).collect();
    let tusize: Vec<usize> = t.iter().map(|&v| v as usize).collect();
    assert_eq!(
        run(&|g| fl.loss_and_grad(&x, &tusize, Reduction::Mean, g).unwrap()),
        want
    );
    assert_eq!(
        run(&|g| fl.loss_and_grad(&x, &t32, Reduction::Mean, g).unwrap()),
        want
    );
    assert_eq!(
        run(&|g| fl.loss_and_grad(&x, &tu32, Reduction::Mean, g).unwrap()),
        want
    );
    assert_eq!(
        run(&|g| fl.loss_and_grad(&x, &t16, Reduction::Mean, g).unwrap()),
        want
    );
    assert_eq!(
        run(&|g| fl.loss_and_grad(&x, &t8, Reduction::Mean, g).unwrap()),
        want
    );
}

/// (N, C, S) logits against their explicit transpose into (N·S, C): identical bits.
#[test]
fn channels_first_matches_transposed_row_major_bits() {
    let (n, c, sp) = (3, 6, 19);
    let (x, _) = batch(n * sp, c, 9);
    let (_, t) = batch(n * sp, c, 10);
    let mut row_major = vec![0.0f32; x.len()];
    for img in 0..n {
        for j in 0..c {
            for s in 0..sp {
                row_major[(img * sp + s) * c + j] = x[(img * c + j) * sp + s];
            }
        }
    }
    for kernel in KERNELS {
        for g in [0.0f32, 2.0, 2.5] {
            let rm = SoftmaxFocal::new(c, g).unwrap().with_kernel(kernel);
            let cf = rm
                .with_layout(Layout::ChannelsFirst { spatial: sp })
                .unwrap();
            let mut grad_rm = vec![0.0f32; x.len()];
            let mut grad_cf = vec![0.0f32; x.len()];
            let l_rm = rm
                .loss_and_grad(&row_major, &t, Reduction::Mean, &mut grad_rm)
                .unwrap();
            let l_cf = cf
                .loss_and_grad(&x, &t, Reduction::Mean, &mut grad_cf)
                .unwrap();
            assert_eq!(l_rm.to_bits(), l_cf.to_bits());
            for img in 0..n {
                for j in 0..c {
                    for s in 0..sp {
                        let a = grad_rm[(img * sp + s) * c + j];
                        let b = grad_cf[(img * c + j) * sp + s];
                        assert_eq!(a.to_bits(), b.to_bits());
                    }
                }
            }
            let mut out_rm = vec![0.0f32; n * sp];
            let mut out_cf = vec![0.0f32; n * sp];
            rm.loss_per_element(&row_major, &t, &mut out_rm).unwrap();
            cf.loss_per_element(&x, &t, &mut out_cf).unwrap();
            assert!(
                out_rm
                    .iter()
                    .zip(&out_cf)
                    .all(|(a, b)| a.to_bits() == b.to_bits())
            );
        }
    }
}

#[test]
fn per_row_bits_do_not_depend_on_split() {
    let (x, t) = batch(45, 4, 21);
    let fl = SoftmaxFocal::new(4, 2.0).unwrap();
    let mut whole = vec![0.0f32; x.len()];
    fl.loss_and_grad(&x, &t, Reduction::Sum, &mut whole)
        .unwrap();
    for split in [1, 7, 16, 17, 33] {
        let mut parts = vec![0.0f32; x.len()];
        fl.loss_and_grad(
            &x[..split * 4],
            &t[..split],
            Reduction::Sum,
            &mut parts[..split * 4],
        )
        .unwrap();
        fl.loss_and_grad(
            &x[split * 4..],
            &t[split..],
            Reduction::Sum,
            &mut parts[split * 4..],
        )
        .unwrap();
        assert!(
            whole
                .iter()
                .zip(&parts)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "split {split}"
        );
    }
}

/// γ = 0 without α is softmax cross-entropy (f64, log-sum-exp).
#[test]
fn gamma_zero_is_cross_entropy() {
    let (x, t) = batch(50, 10, 31);
    for kernel in KERNELS {
        let fl = SoftmaxFocal::new(10, 0.0).unwrap().with_kernel(kernel);
        let mut out = vec![0.0f32; 50];
        fl.loss_per_element(&x, &t, &mut out).unwrap();
        for r in 0..50 {
            let row: Vec<f64> = x[r * 10..r * 10 + 10]
                .iter()
                .map(|&v| f64::from(v))
                .collect();
            let m = row.iter().copied().fold(f64::MIN, f64::max);
            let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
            let ce = lse - row[t[r] as usize];
            assert!(
                (f64::from(out[r]) - ce).abs() <= 8.0 * f64::from(f32::EPSILON) * ce,
                "{r}"
            );
        }
    }
}

/// Two classes with logits (0, x) are the sigmoid form at x, class weights (1 − α, α).
#[test]
fn two_classes_match_the_sigmoid_form() {
    for kernel in KERNELS {
        for g in [0.0f32, 0.5, 2.0, 3.0] {
            let sig = SigmoidFocal::new(g, Some(0.25))
                .unwrap()
                .with_kernel(kernel);
            let alpha = [0.75f32, 0.25];
            let soft = SoftmaxFocal::new(2, g)
                .unwrap()
                .with_alpha(&alpha)
                .unwrap()
                .with_kernel(kernel);
            for i in -60..=60 {
                let x = i as f32 * 0.5;
                for t in [0u8, 1] {
                    let mut gs = [0.0f32];
                    let ls = sig
                        .loss_and_grad(&[x], &[t], Reduction::Sum, &mut gs)
                        .unwrap();
                    let mut gm = [0.0f32; 2];
                    let lm = soft
                        .loss_and_grad(&[0.0, x], &[t], Reduction::Sum, &mut gm)
                        .unwrap();
                    let close =
                        |a: f32, b: f32| (a - b).abs() <= 3e-6 * a.abs().max(b.abs()) + 1e-37;
                    assert!(close(ls, lm), "{kernel:?} γ={g} x={x} t={t}: {ls} vs {lm}");
                    assert!(
                        close(gs[0], gm[1]),
                        "{kernel:?} γ={g} x={x} t={t}: {} vs {}",
                        gs[0],
                        gm[1]
                    );
                    assert!(close(-gs[0], gm[0]), "{kernel:?} γ={g} x={x} t={t}");
                }
            }
        }
    }
}

/// One-hot soft targets give the hard-target loss and gradient.
#[test]
fn one_hot_soft_targets_equal_hard_targets() {
    let (x, t) = batch(30, 6, 41);
    let mut y = vec![0.0f32; x.len()];
    for r in 0..30 {
        y[r * 6 + t[r] as usize] = 1.0;
    }
    let alpha = [0.5f32, 1.0, 0.25, 2.0, 1.0, 0.75];
    for kernel in KERNELS {
        for g in [0.0f32, 1.0, 2.0, 2.5] {
            let fl = SoftmaxFocal::new(6, g)
                .unwrap()
                .with_alpha(&alpha)
                .unwrap()
                .with_kernel(kernel);
            let mut gh = vec![0.0f32; x.len()];
            let mut gs = vec![0.0f32; x.len()];
            let lh = fl.loss_and_grad(&x, &t, Reduction::Mean, &mut gh).unwrap();
            let ls = fl.loss_and_grad(&x, &y, Reduction::Mean, &mut gs).unwrap();
            assert!((lh - ls).abs() <= 1e-6 * lh);
            for i in 0..x.len() {
                assert!(
                    (gh[i] - gs[i]).abs() <= 1e-5 * gh[i].abs().max(1e-6),
                    "{kernel:?} γ={g} {i}"
                );
            }
        }
    }
}

#[test]
fn soft_targets_match_reference() {
    let (x, _) = batch(40, 5, 51);
    let mut y = vec![0.0f32; x.len()];
    for r in 0..40 {
        // Label smoothing 0.1 on class r % 5.
        for j in 0..5 {
            y[r * 5 + j] = if j == r % 5 { 0.92 } else { 0.02 };
        }
    }
    let alpha = [0.5f32, 1.0, 0.25, 2.0, 1.0];
    for kernel in KERNELS {
        for g in [0.0f32, 1.0, 2.0, 3.0] {
            let fl = SoftmaxFocal::new(5, g)
                .unwrap()
                .with_alpha(&alpha)
                .unwrap()
                .with_kernel(kernel);
            let mut out = vec![0.0f32; 40];
            let mut grad = vec![0.0f32; x.len()];
            fl.loss_per_element(&x, &y, &mut out).unwrap();
            fl.loss_and_grad(&x, &y, Reduction::Sum, &mut grad).unwrap();
            for r in 0..40 {
                let (l, gr) =
                    reference::soft(&x[r * 5..r * 5 + 5], &y[r * 5..r * 5 + 5], g, Some(&alpha));
                assert!(
                    (f64::from(out[r]) - l).abs() <= 16.0 * f64::from(f32::EPSILON) * l,
                    "{kernel:?} γ={g} row {r}"
                );
                let scale = gr.iter().map(|v| v.abs()).fold(0.0, f64::max);
                for j in 0..5 {
                    let e = (f64::from(grad[r * 5 + j]) - gr[j]).abs();
                    assert!(
                        e <= 16.0 * f64::from(f32::EPSILON) * scale,
                        "{kernel:?} γ={g} row {r} class {j}"
                    );
                }
            }
        }
    }
}

#[test]
fn infinite_and_saturated_logits() {
    for kernel in KERNELS {
        for g in [0.0f32, 0.5, 2.0, 2.5] {
            let fl = SoftmaxFocal::new(3, g).unwrap().with_kernel(kernel);
            let mut grad = [0.0f32; 3];
            // Confident and right, at any distance: loss ≥ 0, tiny; gradient finite.
            for lead in [60.0f32, 88.0, 200.0, 1e30, f32::INFINITY] {
                let loss = fl
                    .loss_and_grad(&[lead, 0.0, -1.0], &[0u8], Reduction::Sum, &mut grad)
                    .unwrap();
                assert!(
                    (0.0..1e-25).contains(&loss),
                    "{kernel:?} γ={g} lead {lead}: {loss}"
                );
                assert!(grad.iter().all(|v| v.is_finite() && v.abs() < 1e-25));
            }
            // Confident and wrong by +∞: infinite loss, finite gradient.
            let loss = fl
                .loss_and_grad(
                    &[f32::INFINITY, 0.0, -1.0],
                    &[1u8],
                    Reduction::Sum,
                    &mut grad,
                )
                .unwrap();
            assert_eq!(loss, f32::INFINITY);
            assert!(
                grad.iter().all(|v| v.is_finite()),
                "{kernel:?} γ={g}: {grad:?}"
            );
            // −∞ logits are classes with zero probability.
            let a = fl
                .loss(&[1.0, f32::NEG_INFINITY, 0.0], &[0u8], Reduction::Sum)
                .unwrap();
            let b = SoftmaxFocal::new(2, g)
                .unwrap()
                .with_kernel(kernel)
                .loss(&[1.0, 0.0], &[0u8], Reduction::Sum)
                .unwrap();
            assert_eq!(a.to_bits(), b.to_bits());
            // Two +∞ logits share the probability.
            let l = fl
                .loss(&[f32::INFINITY, f32::INFINITY, 0.0], &[0u8], Reduction::Sum)
                .unwrap();
            let want = 0.5f32.powf(g) * core::f32::consts::LN_2;
            assert!((l - want).abs() <= 1e-6, "{kernel:?} γ={g}: {l} vs {want}");
        }
    }
}

/// Soft targets on rows holding infinite logits: infinite loss where a class with weight has
/// probability 0, finite gradients, never NaN (a compensated sum must not turn ∞ into NaN).
#[test]
fn soft_targets_with_infinite_logits() {
    let y = [0.9f32, 0.05, 0.05];
    for kernel in KERNELS {
        for g in [0.0f32, 0.5, 2.0] {
            let fl = SoftmaxFocal::new(3, g).unwrap().with_kernel(kernel);
            for x in [
                [f32::INFINITY, 0.0, 0.0],
                [0.0, f32::NEG_INFINITY, 1.0],
                [f32::INFINITY, f32::INFINITY, f32::NEG_INFINITY],
            ] {
                let mut grad = [0.0f32; 3];
                let loss = fl.loss_and_grad(&x, &y, Reduction::Sum, &mut grad).unwrap();
                assert_eq!(loss, f32::INFINITY, "{kernel:?} γ={g} {x:?}");
                assert!(
                    grad.iter().all(|v| v.is_finite()),
                    "{kernel:?} γ={g} {x:?}: {grad:?}"
                );
            }
        }
    }
}

/// The messages name what is wrong: the class count fixes α's length, and an out-of-range
/// class index is not called "the ignore index" when none is set.
#[test]
fn error_messages_name_the_cause() {
    let fl = SoftmaxFocal::new(4, 2.0).unwrap();
    let e = fl.with_alpha(&[0.25; 3]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "alpha has length 3 but the number of classes requires 4"
    );
    let e = fl.loss(&[0.0; 4], &[7u8], Reduction::Sum).unwrap_err();
    assert_eq!(e.to_string(), "target[0] = 7 is not a class index in 0..4");
    let e = SoftmaxFocal::new(1, 2.0).unwrap_err();
    assert_eq!(
        e.to_string(),
        "num_classes must be in 2..=2^24 (one class: use SigmoidFocal), got 1"
    );
    let e = fl.loss(&[0.0; 4], &[0u8, 1], Reduction::Sum).unwrap_err();
    assert_eq!(
        e.to_string(),
        "targets has length 2 but the logits require 1"
    );
}

/// A row of all −∞ is the limit of equal logits: uniform probabilities, bit for bit the
/// row of equal finite logits (documented on `SoftmaxFocal`), with a finite gradient.
#[test]
fn all_negative_infinite_row_is_uniform() {
    for kernel in KERNELS {
        for g in [0.0f32, 0.5, 2.0] {
            let fl = SoftmaxFocal::new(3, g).unwrap().with_kernel(kernel);
            let (mut a, mut b) = ([0.0f32; 3], [0.0f32; 3]);
            let inf = f32::NEG_INFINITY;
            let la = fl
                .loss_and_grad(&[inf; 3], &[1u8], Reduction::Sum, &mut a)
                .unwrap();
            let lb = fl
                .loss_and_grad(&[-5.0; 3], &[1u8], Reduction::Sum, &mut b)
                .unwrap();
            assert_eq!(la.to_bits(), lb.to_bits(), "{kernel:?} γ={g}");
            assert_eq!(a.map(f32::to_bits), b.map(f32::to_bits), "{kernel:?} γ={g}");
            let want = (2.0f64 / 3.0).powf(f64::from(g)) * 3.0f64.ln();
            assert!((f64::from(la) - want).abs() < 1e-6, "{la} vs {want}");
        }
    }
}

/// The ignore index applies to class indices only: soft targets give the same bits with and
/// without it (documented on `with_ignore_index`).
#[test]
fn ignore_index_does_not_touch_soft_targets() {
    let x = [0.5f32, -1.0, 2.0, 0.0, 1.0, -3.0];
    let y = [0.2f32, 0.3, 0.5, 0.0, 1.0, 0.0];
    for kernel in KERNELS {
        let plain = SoftmaxFocal::new(3, 2.0).unwrap().with_kernel(kernel);
        let ignoring = plain.with_ignore_index(0);
        let (mut a, mut b) = ([0.0f32; 6], [0.0f32; 6]);
        let la = plain
            .loss_and_grad(&x, &y, Reduction::Mean, &mut a)
            .unwrap();
        let lb = ignoring
            .loss_and_grad(&x, &y, Reduction::Mean, &mut b)
            .unwrap();
        assert_eq!(la.to_bits(), lb.to_bits());
        assert_eq!(a.map(f32::to_bits), b.map(f32::to_bits));
    }
}

/// Per-row weights multiply each row's loss exactly as `w · loss` (0 for a zero weight, even
/// where the loss is infinite) and its gradient to within rounding, on every traversal
/// (row-major C ≤ 16 transposed, C ≥ 16 across, channels-first) and both kernels, for hard
/// and soft targets.
#[test]
fn weighted_rows_scale_loss_and_gradient() {
    let cases = [
        (3, Layout::RowMajor),
        (10, Layout::RowMajor),
        (20, Layout::RowMajor),
        (4, Layout::ChannelsFirst { spatial: 5 }),
    ];
    for kernel in KERNELS {
        for (c, layout) in cases {
            let fl = SoftmaxFocal::new(c, 2.0)
                .unwrap()
                .with_layout(layout)
                .unwrap()
                .with_kernel(kernel);
            let rows = 35;
            let (mut x, t) = batch(rows, c, 11 + c as u32);
            // A confidently wrong row with zero weight: infinite loss, weighted 0.
            x[0] = f32::INFINITY;
            let t: Vec<i64> = t
                .iter()
                .enumerate()
                .map(|(r, &v)| if r == 0 { 1 } else { v })
                .collect();
            let w: Vec<f32> = (0..rows).map(|r| [0.0, 0.5, 1.0, 2.75][r % 4]).collect();
            let soft: Vec<f32> = (0..rows * c)
                .map(|i| {
                    let (r, j) = match layout {
                        Layout::RowMajor => (i / c, i % c),
                        Layout::ChannelsFirst { spatial } => (
                            (i / (c * spatial)) * spatial + i % spatial,
                            (i / spatial) % c,
                        ),
                    };
                    0.1 / c as f32 + if t[r] as usize == j { 0.9 } else { 0.0 }
                })
                .collect();
            check_weighted(&fl, &x, &t, &w);
            check_weighted(&fl, &x, &soft, &w);
        }
    }
}

fn check_weighted<T: focal_loss::SoftmaxTarget>(fl: &SoftmaxFocal, x: &[f32], t: &[T], w: &[f32]) {
    let what = format!("{fl:?}");
    let rows = w.len();
    let (mut plain, mut weighted) = (vec![0.0f32; rows], vec![0.0f32; rows]);
    fl.loss_per_element(x, t, &mut plain).unwrap();
    fl.loss_per_element_weighted(x, t, w, &mut weighted)
        .unwrap();
    for r in 0..rows {
        let want = if w[r] == 0.0 { 0.0 } else { plain[r] * w[r] };
        assert_eq!(weighted[r].to_bits(), want.to_bits(), "{what} row {r}");
    }
    let (mut g, mut gw) = (vec![0.0f32; x.len()], vec![0.0f32; x.len()]);
    fl.loss_and_grad(x, t, Reduction::Sum, &mut g).unwrap();
    let loss = fl
        .loss_and_grad_weighted(x, t, w, Reduction::Mean, &mut gw)
        .unwrap();
    let sum: f64 = weighted.iter().map(|&v| f64::from(v)).sum();
    let counted = rows as f64;
    assert!(
        (f64::from(loss) - sum / counted).abs() <= 1e-6 * sum / counted,
        "{what}: {loss} vs {}",
        sum / counted
    );
    assert_eq!(
        loss.to_bits(),
        fl.loss_weighted(x, t, w, Reduction::Mean)
            .unwrap()
            .to_bits()
    );
    let per_row = x.len() / rows;
    let spatial = match fl.layout() {
        Layout::RowMajor => 1,
        Layout::ChannelsFirst { spatial } => spatial,
    };
    for (i, (&a, &b)) in gw.iter().zip(&g).enumerate() {
        let r = if spatial == 1 {
            i / per_row
        } else {
            (i / (per_row * spatial)) * spatial + i % spatial
        };
        let want = f64::from(b) * f64::from(w[r]) / counted;
        assert!(a.is_finite(), "{what} grad[{i}]");
        assert!(
            (f64::from(a) - want).abs() <= 4.0 * f64::from(f32::EPSILON) * want.abs() + 1e-30,
            "{what} grad[{i}] = {a}, want {want}"
        );
    }
}

/// The weights are checked after the targets and before the logits, with the first bad
/// index; their length is one per row.
#[test]
fn bad_weights_are_errors() {
    let fl = SoftmaxFocal::new(2, 2.0).unwrap();
    let x = [0.0f32, 1.0, 2.0, 3.0];
    assert_eq!(
        fl.loss_weighted(&x, &[0u8, 1], &[1.0], Reduction::Sum),
        Err(FocalError::LengthMismatch {
            operand: Operand::Weights,
            expected: 2,
            found: 1
        })
    );
    for bad in [-1.0f32, f32::NAN, f32::INFINITY] {
        let e = fl
            .loss_weighted(&x, &[0u8, 1], &[1.0, bad], Reduction::Sum)
            .unwrap_err();
        assert!(
            matches!(e, FocalError::InvalidWeight { index: 1, value } if value.to_bits() == bad.to_bits()),
            "{e:?}"
        );
    }
    // Targets first: a bad class index wins over a bad weight.
    assert!(matches!(
        fl.loss_weighted(&x, &[5u8, 1], &[1.0, -1.0], Reduction::Sum),
        Err(FocalError::ClassOutOfRange { index: 0, .. })
    ));
    let mut g = [0.0f32; 4];
    assert!(matches!(
        fl.loss_and_grad_weighted(&x, &[0u8, 1], &[-1.0, 1.0], Reduction::Sum, &mut g),
        Err(FocalError::InvalidWeight { index: 0, .. })
    ));
    let mut out = [0.0f32; 2];
    assert!(matches!(
        fl.loss_per_element_weighted(&x, &[0u8, 1], &[1.0, 1.0, 1.0], &mut out),
        Err(FocalError::LengthMismatch {
            operand: Operand::Weights,
            ..
        })
    ));
}

/// Fuzzing found (target `softmax`, `Kernel::Libm`): the row
/// `[96.375, f32::MAX, 0, …, 0]` gave a NaN loss. `z − m` is carried exactly as `hi + lo`;
/// for `z = 96.375`, `hi = −f32::MAX` and `lo = 96.375`, and `e^hi · e^lo` was `0·∞`.
/// `Kernel::Libm`'s `e^(hi + lo)` now takes the limit of the sum out of range (0 here), as
/// `Kernel::Simd`'s does. Every target's loss matches the `f64` reference (`f32::MAX`
/// rounded, or 0 at the maximum) and the gradient is finite.
#[test]
fn logits_an_f32_max_apart_give_no_nan() {
    let mut row = [0.0f32; 13];
    row[0] = 96.375;
    row[1] = f32::MAX;
    let fl = SoftmaxFocal::new(13, 2.0).unwrap();
    for kernel in KERNELS {
        let fl = fl.with_kernel(kernel);
        for c in 0..13u8 {
            let (want, want_grad) = reference::hard(&row, usize::from(c), 2.0, 1.0);
            let mut loss = [0.0f32];
            fl.loss_per_element(&row, &[c], &mut loss).unwrap();
            let at = format!("{kernel:?} target {c}");
            assert!(
                testkit::ulp::check(loss[0], want, want, 16.0).is_ok(),
                "{at}: loss {} vs {want}",
                loss[0]
            );
            let mut grad = [0.0f32; 13];
            let total = fl
                .loss_and_grad(&row, &[c], Reduction::Sum, &mut grad)
                .unwrap();
            assert_eq!(total.to_bits(), loss[0].to_bits(), "{at}");
            for (j, (&g, &w)) in grad.iter().zip(&want_grad).enumerate() {
                assert!(
                    testkit::ulp::check(g, w, w.abs(), 16.0).is_ok(),
                    "{at}: dL/dz_{j} {g} vs {w}"
                );
            }
        }
    }
}
