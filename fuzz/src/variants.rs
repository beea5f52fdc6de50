//! Fuzz target `variants`: the loss, per-element and loss-and-gradient entry points of
//! [`FocalStar`], [`QualityFocal`], [`Varifocal`] and [`Asymmetric`] (with `f32` and, where
//! they take them, `u8` targets), any hyper-parameters, reduction and slices; and
//! [`PositiveNormaliser::update`] on any counts.

use crate::decode;
use crate::expect::{self, Entry};
use crate::family::{self, Inputs, Loss, Reference};
use crate::sigmoid::{entry, hard_target};
use arbitrary::{Result, Unstructured};
use focal_loss::{
    Asymmetric, BinaryTarget, FocalError, FocalStar, Kernel, PositiveNormaliser, QualityFocal,
    Varifocal,
};
use testkit::sigmoid::reference::sigmoid;
use testkit::variants::accuracy::reference64;
use testkit::vectors::VariantConfig;

/// Decodes `data` into a case and checks it (see the crate docs).
pub fn check(data: &[u8]) {
    let _ = run(&mut Unstructured::new(data));
}

/// `|e·ln b|` for a fractional exponent `e` applied by `exp(e·ln b)` to a computed base `b`
/// (`tests/suite/variant_proptest.rs`, whose bound is `16 +` this).
pub fn exponent_size(config: &VariantConfig, x: f32, t: f32) -> f64 {
    let (x, t) = (f64::from(x), f64::from(t));
    let (e, b) = match *config {
        VariantConfig::Quality { beta } if t != 0.0 && t != 1.0 => (beta, (t - sigmoid(x)).abs()),
        VariantConfig::Asymmetric {
            gamma_neg, clip, ..
        } if t == 0.0 && clip > 0.0 => (gamma_neg, sigmoid(x) - f64::from(clip)),
        _ => return 0.0,
    };
    if e.fract() == 0.0 || b <= 0.0 {
        return 0.0;
    }
    (f64::from(e) * b.ln()).abs()
}

/// A built variant.
#[derive(Debug, Clone, Copy)]
enum Variant {
    Star(FocalStar),
    Quality(QualityFocal),
    Vari(Varifocal),
    Asym(Asymmetric),
}

/// A case: the variant, its config for the reference, and the inputs.
struct Case<'a, T> {
    variant: Variant,
    config: VariantConfig,
    logits: &'a [f32],
    targets: &'a [T],
    targets_f32: &'a [f32],
}

/// Calls `entry` of a variant with targets of type `T`.
macro_rules! call {
    ($fl:expr, $entry:expr, $x:expr, $t:expr, $out:expr) => {
        match $entry {
            Entry::Loss(r) => $fl.loss($x, $t, r).map(Some),
            Entry::PerElement(_) => $fl.loss_per_element($x, $t, $out).map(|()| None),
            Entry::AndGrad(r, _) => $fl.loss_and_grad($x, $t, r, $out).map(Some),
        }
    };
}

impl<T: BinaryTarget> Loss for Case<'_, T> {
    fn call(
        &self,
        kernel: Kernel,
        entry: Entry,
        out: &mut [f32],
    ) -> Result<Option<f32>, FocalError> {
        let (x, t, tf) = (self.logits, self.targets, self.targets_f32);
        match self.variant {
            Variant::Star(fl) => call!(fl.with_kernel(kernel), entry, x, t, out),
            Variant::Asym(fl) => call!(fl.with_kernel(kernel), entry, x, t, out),
            Variant::Quality(fl) => call!(fl.with_kernel(kernel), entry, x, tf, out),
            Variant::Vari(fl) => call!(fl.with_kernel(kernel), entry, x, tf, out),
        }
    }

    fn describe(&self) -> String {
        format!("{:?}", self.variant)
    }

    fn reference(&self, i: usize) -> Reference {
        let (x, t) = (self.logits[i], self.targets_f32[i]);
        let v = reference64(&self.config, f64::from(x), f64::from(t));
        Reference {
            loss: v.loss,
            loss_scale: v.loss_scale,
            grad: v.grad,
            grad_scale: v.grad_scale,
            bound: 16.0 + exponent_size(&self.config, x, t),
        }
    }
}

/// `Ok` where the documented domains hold, else their first violation.
fn domain(config: &VariantConfig) -> Result<(), FocalError> {
    let exponent = |v: f32| v.is_finite() && v >= 0.0;
    let unit = |v: f32| (0.0..=1.0).contains(&v);
    match *config {
        VariantConfig::FocalStar { gamma, beta, alpha } => {
            if !(gamma.is_finite() && gamma > 0.0) {
                Err(FocalError::InvalidStarGamma { gamma })
            } else if !beta.is_finite() {
                Err(FocalError::InvalidStarBeta { beta })
            } else if let Some(alpha) = alpha.filter(|&a| !unit(a)) {
                Err(FocalError::InvalidAlpha { alpha })
            } else {
                Ok(())
            }
        }
        VariantConfig::Quality { beta } if !exponent(beta) => Err(FocalError::InvalidBeta { beta }),
        VariantConfig::Varifocal { alpha, .. } if !unit(alpha) => {
            Err(FocalError::InvalidAlpha { alpha })
        }
        VariantConfig::Varifocal { gamma, .. } if !exponent(gamma) => {
            Err(FocalError::InvalidGamma { gamma })
        }
        VariantConfig::Asymmetric {
            gamma_pos,
            gamma_neg,
            clip,
        } => {
            if let Some(gamma) = [gamma_pos, gamma_neg].into_iter().find(|&g| !exponent(g)) {
                Err(FocalError::InvalidGamma { gamma })
            } else if !(0.0..1.0).contains(&clip) {
                Err(FocalError::InvalidClip { clip })
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

/// Builds `config`, checking the builder against [`domain`].
fn build(config: &VariantConfig) -> Option<Variant> {
    let built = match *config {
        VariantConfig::FocalStar { gamma, beta, alpha } => {
            FocalStar::new(gamma, beta, alpha).map(Variant::Star)
        }
        VariantConfig::Quality { beta } => QualityFocal::new(beta).map(Variant::Quality),
        VariantConfig::Varifocal {
            alpha,
            gamma,
            iou_weighted,
        } => Varifocal::new(alpha, gamma, iou_weighted).map(Variant::Vari),
        VariantConfig::Asymmetric {
            gamma_pos,
            gamma_neg,
            clip,
        } => Asymmetric::new(gamma_pos, gamma_neg, clip).map(Variant::Asym),
        // The sigmoid form's options (`ExtendedSigmoidFocal`): `run` does not decode them
        // yet (not fuzzed; docs/reliability.md says so).
        VariantConfig::Poly1 { .. }
        | VariantConfig::Reduced { .. }
        | VariantConfig::Normalized { .. } => return None,
    };
    let want = domain(config);
    assert!(
        expect::same(&built.map(|_| ()), &want),
        "{config:?}: {built:?}"
    );
    built.ok()
}

fn run(u: &mut Unstructured) -> Result<()> {
    let config = match u.int_in_range(0u8..=4)? {
        0 => VariantConfig::FocalStar {
            gamma: decode::exponent(u)?,
            beta: if u.arbitrary()? {
                decode::float(u)?
            } else {
                f32::from(u.arbitrary::<i8>()?) / 16.0
            },
            alpha: if u.arbitrary()? {
                Some(decode::unit(u, true)?)
            } else {
                None
            },
        },
        1 => VariantConfig::Quality {
            beta: decode::exponent(u)?,
        },
        2 => VariantConfig::Varifocal {
            alpha: decode::unit(u, true)?,
            gamma: decode::exponent(u)?,
            iou_weighted: u.arbitrary()?,
        },
        3 => VariantConfig::Asymmetric {
            gamma_pos: decode::exponent(u)?,
            gamma_neg: decode::exponent(u)?,
            clip: if u.arbitrary()? {
                0.0
            } else {
                decode::unit(u, true)?
            },
        },
        _ => {
            normaliser(u)?;
            return Ok(());
        }
    };
    let Some(variant) = build(&config) else {
        return Ok(());
    };
    let wild = u.ratio(1u8, 4)?;
    let n = u.int_in_range(0..=80)?;
    let logits = decode::values(u, n, |u| decode::logit(u, wild))?;
    let targets_len = decode::length(u, n, wild)?;
    let entry = entry(u, n, wild)?;
    let binary = matches!(variant, Variant::Asym(_));
    let takes_u8 = matches!(variant, Variant::Star(_) | Variant::Asym(_));
    if takes_u8 && u.arbitrary()? {
        let targets = decode::values(u, targets_len, |u| hard_target(u, wild))?;
        let targets_f32: Vec<f32> = targets.iter().map(|&t| f32::from(t)).collect();
        let case = Case {
            variant,
            config,
            logits: &logits,
            targets: &targets,
            targets_f32: &targets_f32,
        };
        family::check(
            &case,
            Inputs {
                logits: &logits,
                targets: &targets_f32,
                weights: None,
                binary,
            },
            entry,
        );
    } else {
        let targets = decode::values(u, targets_len, |u| {
            let t = decode::unit(u, wild)?;
            // Asymmetric takes 0 / 1: a soft target only in a wild case.
            Ok(if binary && !wild { t.round() } else { t })
        })?;
        let case = Case {
            variant,
            config,
            logits: &logits,
            targets: &targets,
            targets_f32: &targets,
        };
        family::check(
            &case,
            Inputs {
                logits: &logits,
                targets: &targets,
                weights: None,
                binary,
            },
            entry,
        );
    }
    Ok(())
}

/// [`PositiveNormaliser::update`] on any counts: finite, positive, the documented moving
/// average (`0.9·v + 0.1·max(n, 1)` from its start), never panics.
fn normaliser(u: &mut Unstructured) -> Result<()> {
    let mut normaliser = PositiveNormaliser::new();
    let mut want = f64::from(normaliser.value());
    let steps = u.int_in_range(0..=64)?;
    for _ in 0..steps {
        let count: usize = if u.arbitrary()? {
            u.arbitrary()?
        } else {
            u.int_in_range(0..=1000)?
        };
        let v = normaliser.update(count);
        want = 0.9 * want + 0.1 * count.max(1) as f64;
        assert!(
            v.is_finite() && v > 0.0 && v == normaliser.value(),
            "update({count}) = {v}"
        );
        assert!(
            (f64::from(v) - want).abs() <= 1e-5 * want,
            "update({count}) = {v}, want {want}"
        );
    }
    Ok(())
}
