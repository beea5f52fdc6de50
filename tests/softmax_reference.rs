//! The softmax focal loss against outside references: exact values (mpmath, checked against
//! PyTorch float64 autograd where PyTorch is accurate) from the committed vectors, and central
//! finite differences of the `f64` reference.

mod common;

use common::reference::{ulp_at, ulp_error};
use common::softmax_reference;
use focal_loss::{Kernel, Reduction, SoftmaxFocal};

/// One sample of `tests/data/softmax_reference.csv`.
struct Case {
    gamma: f32,
    alpha: Option<Vec<f32>>,
    target: Option<usize>,
    logits: Vec<f32>,
    soft: Vec<f32>,
    loss: f64,
    grad: Vec<f64>,
}

fn cases() -> Vec<Case> {
    let text = include_str!("data/softmax_reference.csv");
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    assert_eq!(
        lines.next(),
        Some("case,num_classes,gamma,alpha,target,class,logit,soft_target,loss,grad")
    );
    let mut cases: Vec<Case> = Vec::new();
    let mut current = None;
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 10, "{line}");
        let id: usize = f[0].parse().unwrap();
        if current != Some(id) {
            current = Some(id);
            cases.push(Case {
                gamma: f[2].parse::<f64>().unwrap() as f32,
                alpha: (f[3] != "none").then(Vec::new),
                target: (f[4] != "soft").then(|| f[4].parse().unwrap()),
                logits: Vec::new(),
                soft: Vec::new(),
                loss: f[8].parse().unwrap(),
                grad: Vec::new(),
            });
        }
        let case = cases.last_mut().unwrap();
        if let Some(a) = case.alpha.as_mut() {
            a.push(f[3].parse::<f64>().unwrap() as f32);
        }
        case.logits.push(f[6].parse::<f64>().unwrap() as f32);
        if !f[7].is_empty() {
            case.soft.push(f[7].parse::<f64>().unwrap() as f32);
        }
        case.grad.push(f[9].parse().unwrap());
        assert_eq!(f[5].parse::<usize>().unwrap() + 1, case.logits.len());
    }
    assert!(cases.len() >= 700, "only {} cases", cases.len());
    cases
}

/// The accuracy bound of tests/softmax_accuracy.rs for this γ.
fn bound(gamma: f32) -> f64 {
    match gamma {
        0.5 => 15.0,
        2.5 => 35.0,
        _ => 16.0,
    }
}

#[test]
fn f64_reference_agrees_with_committed_vectors() {
    for case in cases() {
        let (loss, grad) = match case.target {
            Some(c) => {
                let a = case.alpha.as_ref().map_or(1.0, |a| a[c]);
                softmax_reference::hard(&case.logits, c, case.gamma, a)
            }
            None => {
                softmax_reference::soft(&case.logits, &case.soft, case.gamma, case.alpha.as_deref())
            }
        };
        assert!(
            (loss - case.loss).abs() <= 1e-12 * case.loss.abs(),
            "{loss} vs {}",
            case.loss
        );
        let scale: f64 = case.grad.iter().map(|g| g.abs()).sum();
        for (g, want) in grad.iter().zip(&case.grad) {
            assert!((g - want).abs() <= 1e-12 * scale, "{g} vs {want}");
        }
    }
}

#[test]
fn kernels_match_committed_vectors() {
    let cases = cases();
    for kernel in [Kernel::Simd, Kernel::Libm] {
        for case in &cases {
            let c = case.logits.len();
            let mut fl = SoftmaxFocal::new(c, case.gamma)
                .unwrap()
                .with_kernel(kernel);
            if let Some(a) = &case.alpha {
                fl = fl.with_alpha(a).unwrap();
            }
            let mut grad = vec![0.0f32; c];
            let loss = match case.target {
                Some(t) => fl.loss_and_grad(&case.logits, &[t as u32], Reduction::Sum, &mut grad),
                None => fl.loss_and_grad(&case.logits, &case.soft, Reduction::Sum, &mut grad),
            }
            .unwrap();
            let b = bound(case.gamma);
            let what = format!("{kernel:?} C={c} γ={} target {:?}", case.gamma, case.target);
            match ulp_error(loss, case.loss) {
                Some(e) => assert!(e <= b, "{what}: loss {loss} vs {} ({e:.1} ULP)", case.loss),
                None => assert!(f64::from(loss.abs()) < 1.2e-38, "{what}: loss {loss}"),
            }
            let scale = case.grad.iter().map(|g| g.abs()).fold(0.0, f64::max);
            for (j, (&got, &want)) in grad.iter().zip(&case.grad).enumerate() {
                let e = if case.target.is_some() {
                    ulp_error(got, want)
                } else if scale >= 1.2e-38 {
                    // Soft targets: the gradient is a difference; measure against the largest.
                    Some((f64::from(got) - want).abs() / ulp_at(scale))
                } else {
                    None
                };
                match e {
                    Some(e) => assert!(
                        e <= b,
                        "{what} class {j}: {} vs {want} ({e:.1} ULP)",
                        grad[j]
                    ),
                    None => assert!(
                        (f64::from(grad[j]) - want).abs() < 1.2e-38,
                        "{what} class {j}"
                    ),
                }
            }
        }
    }
}

#[test]
fn f64_reference_gradient_matches_finite_differences() {
    let rows: [&[f32]; 4] = [
        &[0.5, -1.25, 2.0],
        &[3.0, 3.0, -2.0, 0.0],
        &[-4.0, 1.0],
        &[0.1, 0.2, 0.3, 0.4, 0.5],
    ];
    for g in [0.0f32, 0.5, 1.0, 2.0, 2.5, 3.0] {
        for row in rows {
            let c = row.len();
            let y: Vec<f32> = (0..c)
                .map(|j| if j == 0 { 0.7 } else { 0.3 / (c - 1) as f32 })
                .collect();
            for target in [None, Some(0), Some(c - 1)] {
                let eval = |z: &[f32]| match target {
                    Some(t) => softmax_reference::hard(z, t, g, 0.5),
                    None => softmax_reference::soft(z, &y, g, None),
                };
                let (_, grad) = eval(row);
                for k in 0..c {
                    // Central differences in f64 through an f32 step that is exact.
                    let h = 1.0 / 1024.0;
                    let mut up = row.to_vec();
                    up[k] += h;
                    let mut down = row.to_vec();
                    down[k] -= h;
                    let fd = (eval(&up).0 - eval(&down).0) / (2.0 * f64::from(h));
                    assert!(
                        (fd - grad[k]).abs() <= 2e-5 * grad[k].abs().max(1e-3),
                        "γ={g} row {row:?} target {target:?} class {k}: {} vs fd {fd}",
                        grad[k]
                    );
                }
            }
        }
    }
}
