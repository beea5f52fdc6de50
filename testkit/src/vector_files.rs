//! Parsers of the committed reference-vector files (`tests/data/*.csv`), and the conversion
//! of their rows to the [`crate::vectors`] the kernels are checked on. The host tests check
//! the parsed rows; the firmware's build script turns the same rows into tables.

use crate::sigmoid::reference::soft_grad_scale64;
use crate::vectors::{SigmoidVector, SoftmaxVector, VariantConfig, VariantVector};

/// `tests/data/sigmoid_reference.csv`.
pub const SIGMOID_CSV: &str = include_str!("../../tests/data/sigmoid_reference.csv");
/// `tests/data/softmax_reference.csv`.
pub const SOFTMAX_CSV: &str = include_str!("../../tests/data/softmax_reference.csv");

/// `tests/data/variant_reference.csv`.
pub const VARIANT_CSV: &str = include_str!("../../tests/data/variant_reference.csv");

/// One row of the sigmoid file.
#[derive(Debug, Clone, Copy)]
pub struct SigmoidRow {
    /// γ.
    pub gamma: f64,
    /// α, or `None` for no weighting.
    pub alpha: Option<f64>,
    /// The logit.
    pub logit: f64,
    /// The target, hard (0 or 1) or soft.
    pub target: f64,
    /// The reference loss.
    pub loss: f64,
    /// The reference gradient with respect to the logit.
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

    /// The row as the `f32` vector a kernel is checked on (meaningful where
    /// [`exact_in_f32`](Self::exact_in_f32)).
    pub fn vector(&self) -> SigmoidVector {
        SigmoidVector {
            gamma: self.gamma as f32,
            alpha: self.alpha.map(|a| a as f32),
            logit: self.logit as f32,
            target: self.target as f32,
            loss: self.loss,
            grad: self.grad,
            grad_scale: self.grad_scale(),
        }
    }
}

/// One sample of the softmax file.
#[derive(Debug, Clone)]
pub struct SoftmaxCase {
    /// γ.
    pub gamma: f32,
    /// The per-class α, or `None` for no weighting.
    pub alpha: Option<Vec<f32>>,
    /// The class, or `None` for a soft target in `soft`.
    pub target: Option<usize>,
    /// The row's logits, one per class.
    pub logits: Vec<f32>,
    /// The soft target, one per class (empty for a class target).
    pub soft: Vec<f32>,
    /// The reference loss.
    pub loss: f64,
    /// The reference gradient, one per class.
    pub grad: Vec<f64>,
}

impl SoftmaxCase {
    /// The sample as the `core`-only vector a kernel is checked on.
    pub fn vector(&self) -> SoftmaxVector<'_> {
        SoftmaxVector {
            gamma: self.gamma,
            alpha: self.alpha.as_deref(),
            target: self.target.map(|t| t as u32),
            logits: &self.logits,
            soft: &self.soft,
            loss: self.loss,
            grad: &self.grad,
        }
    }
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

/// Every row of the variants' file, as the vectors the kernels are checked on (its inputs
/// are exact in `f32`).
pub fn variant_vectors() -> Vec<VariantVector> {
    let mut lines = VARIANT_CSV.lines().filter(|l| !l.starts_with('#'));
    assert_eq!(
        lines.next(),
        Some("p1,p2,p3,logit,target,loss,grad,loss_scale,grad_scale,variant")
    );
    let f32_of = |v: &str| {
        let x = number(v);
        assert!(f64::from(x as f32) == x, "{v} is not an f32");
        x as f32
    };
    let rows: Vec<VariantVector> = lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 10, "{l}");
            let config = match f[9] {
                "focal_star" => VariantConfig::FocalStar {
                    gamma: f32_of(f[0]),
                    beta: f32_of(f[1]),
                    alpha: (f[2] != "none").then(|| f32_of(f[2])),
                },
                "quality" => VariantConfig::Quality { beta: f32_of(f[0]) },
                "varifocal" => VariantConfig::Varifocal {
                    alpha: f32_of(f[0]),
                    gamma: f32_of(f[1]),
                    iou_weighted: f[2] == "1",
                },
                "asymmetric" => VariantConfig::Asymmetric {
                    gamma_pos: f32_of(f[0]),
                    gamma_neg: f32_of(f[1]),
                    clip: f32_of(f[2]),
                },
                "poly1" => VariantConfig::Poly1 {
                    gamma: f32_of(f[0]),
                    alpha: (f[1] != "none").then(|| f32_of(f[1])),
                    epsilon: f32_of(f[2]),
                },
                "reduced" => VariantConfig::Reduced {
                    gamma: f32_of(f[0]),
                    alpha: (f[1] != "none").then(|| f32_of(f[1])),
                    threshold: f32_of(f[2]),
                },
                "normalized" => VariantConfig::Normalized {
                    gamma: f32_of(f[0]),
                    alpha: (f[1] != "none").then(|| f32_of(f[1])),
                },
                other => panic!("unknown variant {other:?}"),
            };
            VariantVector {
                config,
                logit: f32_of(f[3]),
                target: f32_of(f[4]),
                loss: number(f[5]),
                grad: number(f[6]),
                loss_scale: number(f[7]),
                grad_scale: number(f[8]),
            }
        })
        .collect();
    assert!(rows.len() > 15000, "only {} rows", rows.len());
    rows
}
