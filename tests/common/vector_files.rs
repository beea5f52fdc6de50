//! Parsers of the committed reference-vector files. `std` only (no `focal_loss`), so that the
//! firmware's build script can include this file too and turn the same rows into tables.
#![allow(dead_code)]

use super::reference::soft_grad_scale64;

/// `tests/data/sigmoid_reference.csv`.
pub const SIGMOID_CSV: &str = include_str!("../data/sigmoid_reference.csv");
/// `tests/data/softmax_reference.csv`.
pub const SOFTMAX_CSV: &str = include_str!("../data/softmax_reference.csv");

/// One row of the sigmoid file.
#[derive(Debug, Clone, Copy)]
pub struct SigmoidRow {
    pub gamma: f64,
    pub alpha: Option<f64>,
    pub logit: f64,
    pub target: f64,
    pub loss: f64,
    pub grad: f64,
}

impl SigmoidRow {
    /// Whether the row's inputs are exact in `f32`, so that an `f32` kernel can be held to it.
    pub fn exact_in_f32(&self) -> bool {
        let exact = |v: f64| f64::from(v as f32) == v || v.is_nan();
        exact(self.gamma) && exact(self.logit) && exact(self.target) && self.alpha.is_none_or(exact)
    }

    /// The magnitude the gradient's rounding error is relative to: `|grad|`, or for a soft
    /// target at a finite logit the sum of the magnitudes of its terms.
    pub fn grad_scale(&self) -> f64 {
        let soft = self.target != 0.0 && self.target != 1.0;
        if soft && self.logit.is_finite() {
            // The f32 inputs the kernel sees.
            let (x, t) = (f64::from(self.logit as f32), f64::from(self.target as f32));
            let alpha = self.alpha.map(|a| f64::from(a as f32));
            soft_grad_scale64(x, t, f64::from(self.gamma as f32), alpha)
        } else {
            self.grad.abs()
        }
    }
}

/// One sample of the softmax file.
#[derive(Debug, Clone)]
pub struct SoftmaxCase {
    pub gamma: f32,
    pub alpha: Option<Vec<f32>>,
    pub target: Option<usize>,
    pub logits: Vec<f32>,
    pub soft: Vec<f32>,
    pub loss: f64,
    pub grad: Vec<f64>,
}

/// A number of the files: a decimal, `inf` or `-inf`.
fn number(v: &str) -> f64 {
    match v {
        "inf" => f64::INFINITY,
        "-inf" => f64::NEG_INFINITY,
        _ => v.parse().unwrap_or_else(|_| panic!("bad number {v:?}")),
    }
}

/// Every row of the sigmoid file.
pub fn sigmoid_rows() -> Vec<SigmoidRow> {
    let mut lines = SIGMOID_CSV.lines().filter(|l| !l.starts_with('#'));
    assert_eq!(
        lines.next(),
        Some("gamma,alpha,logit,target,loss,grad,source")
    );
    let rows: Vec<SigmoidRow> = lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 7, "{l}");
            SigmoidRow {
                gamma: number(f[0]),
                alpha: (f[1] != "none").then(|| number(f[1])),
                logit: number(f[2]),
                target: number(f[3]),
                loss: number(f[4]),
                grad: number(f[5]),
            }
        })
        .collect();
    assert!(rows.len() > 5000, "only {} rows", rows.len());
    rows
}

/// Every sample of the softmax file.
pub fn softmax_cases() -> Vec<SoftmaxCase> {
    let mut lines = SOFTMAX_CSV.lines().filter(|l| !l.starts_with('#'));
    assert_eq!(
        lines.next(),
        Some("case,num_classes,gamma,alpha,target,class,logit,soft_target,loss,grad")
    );
    let mut cases: Vec<SoftmaxCase> = Vec::new();
    let mut current = None;
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 10, "{line}");
        let id: usize = f[0].parse().unwrap();
        if current != Some(id) {
            current = Some(id);
            cases.push(SoftmaxCase {
                gamma: number(f[2]) as f32,
                alpha: (f[3] != "none").then(Vec::new),
                target: (f[4] != "soft").then(|| f[4].parse().unwrap()),
                logits: Vec::new(),
                soft: Vec::new(),
                loss: number(f[8]),
                grad: Vec::new(),
            });
        }
        let case = cases.last_mut().unwrap();
        if let Some(a) = case.alpha.as_mut() {
            a.push(number(f[3]) as f32);
        }
        case.logits.push(number(f[6]) as f32);
        if !f[7].is_empty() {
            case.soft.push(number(f[7]) as f32);
        }
        case.grad.push(number(f[9]));
        assert_eq!(f[5].parse::<usize>().unwrap() + 1, case.logits.len());
    }
    assert!(cases.len() >= 700, "only {} cases", cases.len());
    cases
}
