//! Fuzz target `softmax`: [`SoftmaxFocal`]'s six entry points (loss, per-element, loss and
//! gradient, each plain and weighted), both layouts, every class-index type (`i64`, `i32`,
//! `u32`, `u16`, `u8`, `usize`) and soft `f32` targets, per-class α, an ignore index, any γ,
//! C, reduction and slices; and its options, Poly-1 (`with_poly1`, any ε) and the reduced
//! focal loss (`with_reduced_threshold`, any threshold), each alone and with the other (an
//! error).

use crate::decode;
use crate::expect::{self, Entry, Shape, SoftmaxTargets};
use crate::tolerance::{EPS, SUM_ULPS, allowance, ulp, within};
use arbitrary::{Arbitrary, Result, Unstructured};
use focal_loss::{FocalError, Kernel, Layout, Operand, Reduction, SoftmaxFocal, SoftmaxTarget};
use testkit::softmax::reference::{self, Poly1Row};

/// Decodes `data` into a case and checks it (see the crate docs).
pub fn check(data: &[u8]) {
    let _ = run(&mut Unstructured::new(data));
}

/// The per-kernel bound of `tests/suite/softmax_accuracy.rs`: 16 ULP for γ ∈ {0, 1, 2, 3};
/// other γ take `exp(γ·ln(1 − p_c))`, whose exponent the kernels carry unrounded up to
/// γ = 2^20 (the bound still allows `|γ·ln(1 − p_c)|` for a rounded one, the largest over
/// the classes with a target for soft targets: it does not model `1 − p_c`'s own error, which
/// γ multiplies).
pub fn bound(row: &[f32], classes: impl Iterator<Item = usize>, g: f32) -> f64 {
    if g.fract() == 0.0 && g <= 3.0 {
        return 16.0;
    }
    let z: Vec<f64> = row.iter().map(|&v| f64::from(v)).collect();
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|&v| (v - m).exp()).collect();
    let total: f64 = e.iter().sum();
    let size = classes
        .map(|c| {
            let rest: f64 = (0..e.len()).filter(|&j| j != c).map(|j| e[j]).sum();
            (f64::from(g) * (rest / total).ln()).abs()
        })
        .fold(0.0, f64::max);
    16.0 + if size.is_finite() { size } else { 0.0 }
}

/// A class-index target type: converts the decoded `i64` (wrapping, as a cast would) and
/// back to what the library compares (`usize` beyond `i64::MAX` saturates).
trait Class: SoftmaxTarget + for<'a> Arbitrary<'a> + core::fmt::Debug {
    fn from_i64(v: i64) -> Self;
    fn as_i64(self) -> i64;
}

macro_rules! class {
    ($($t:ty),*) => {$(
        impl Class for $t {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            fn from_i64(v: i64) -> Self {
                v as $t
            }
            #[allow(clippy::cast_possible_wrap)]
            fn as_i64(self) -> i64 {
                i64::try_from(self).unwrap_or(i64::MAX)
            }
        }
    )*};
}

class!(i64, i32, u32, u16, u8, usize);

/// One row's reference: the loss and gradient, the magnitudes the kernels' errors are
/// measured at (the values' own unless terms cancel, as Poly-1's may), the per-kernel bound
/// in ULP, and whether the row is decided: a reduced focal loss's row whose probability is
/// within rounding of the threshold may take either branch (the factor jumps there), so
/// the kernels need not agree on it, nor on a sum over it.
struct RowReference {
    loss: f64,
    grad: Vec<f64>,
    loss_scale: f64,
    grad_scale: Vec<f64>,
    bound: f64,
    decided: bool,
}

impl RowReference {
    /// A row whose values are their own scale.
    fn of((loss, grad): (f64, Vec<f64>), bound: f64) -> Self {
        RowReference {
            loss_scale: loss.abs(),
            grad_scale: grad.iter().map(|g| g.abs()).collect(),
            loss,
            grad,
            bound,
            decided: true,
        }
    }

    /// Poly-1's row, with the scales of its terms.
    fn poly1(r: Poly1Row, bound: f64) -> Self {
        RowReference {
            loss: r.loss,
            grad: r.grad,
            loss_scale: r.loss_scale,
            grad_scale: r.grad_scale,
            bound,
            decided: true,
        }
    }
}

/// The option on a case's loss.
#[derive(Debug, Clone, Copy)]
enum Modifier {
    Plain,
    Poly1(f32),
    Reduced(f32),
}

/// How close (relative) a probability may come to the reduced threshold before either
/// branch is right: the kernels' `p` and `1 − p` are within a few ULP of the exact ones.
const BRANCH_TOLERANCE: f64 = 1e-5;

/// Whether the reduced focal loss of threshold `th` decides row `row`'s branch for every
/// class of `classes` beyond rounding: on `1 − p` against `1 − th` for `th >= 1/2`, on `p`
/// against `th` below, as `src/reduced.rs` decides it.
fn decided(row: &[f32], classes: impl Iterator<Item = usize>, th: f32) -> bool {
    let z: Vec<f64> = row.iter().map(|&v| f64::from(v)).collect();
    let probs = reference::probabilities(&z);
    let th = f64::from(th);
    classes.into_iter().all(|c| {
        let (_, q, p) = probs[c];
        if th >= 0.5 {
            (q - (1.0 - th)).abs() > BRANCH_TOLERANCE * (1.0 - th)
        } else {
            (p - th).abs() > BRANCH_TOLERANCE * th
        }
    })
}

/// Poly-1 or a reduced threshold on `fl`, or neither, drawn from what is left of the input
/// after the targets (out of data it is neither, so the committed corpus decodes to the
/// cases it did), built and checked against the documented rules, and sometimes the other
/// option on top (always an error); `None` where the builder rejects it.
fn modifier<'a>(
    u: &mut Unstructured,
    fl: SoftmaxFocal<'a>,
) -> Result<Option<(SoftmaxFocal<'a>, Modifier)>> {
    let (fl, modifier) = match u.int_in_range(0u8..=3)? {
        0 | 1 => return Ok(Some((fl, Modifier::Plain))),
        2 => {
            let epsilon = match u.int_in_range(0u8..=3)? {
                0 => -1.0,
                1 => f32::from(u.arbitrary::<i8>()?) / 32.0,
                2 => decode::float(u)?,
                _ => 1.0,
            };
            let built = fl.with_poly1(epsilon);
            let want = if epsilon.is_finite() && epsilon >= -1.0 {
                Ok(())
            } else {
                Err(FocalError::InvalidPolyEpsilon { epsilon })
            };
            assert!(
                expect::same(&built.map(|_| ()), &want),
                "with_poly1({epsilon}): {built:?}"
            );
            let Ok(fl) = built else { return Ok(None) };
            (fl, Modifier::Poly1(epsilon))
        }
        _ => {
            let threshold = match u.int_in_range(0u8..=3)? {
                0 => 1.0,
                1 => decode::float(u)?,
                _ => f32::from(u.int_in_range(1u16..=1000)?) / 1000.0,
            };
            let built = fl.with_reduced_threshold(threshold);
            let want = if threshold > 0.0 && threshold <= 1.0 {
                Ok(())
            } else {
                Err(FocalError::InvalidReducedThreshold { threshold })
            };
            assert!(
                expect::same(&built.map(|_| ()), &want),
                "with_reduced_threshold({threshold}): {built:?}"
            );
            let Ok(fl) = built else { return Ok(None) };
            (fl, Modifier::Reduced(threshold))
        }
    };
    if u.ratio(1u8, 8)? {
        let both = match modifier {
            Modifier::Poly1(_) => fl.with_reduced_threshold(0.5).map(|_| ()),
            _ => fl.with_poly1(1.0).map(|_| ()),
        };
        assert!(
            expect::same(&both, &Err(FocalError::PolyWithReducedThreshold)),
            "{modifier:?} and the other option: {both:?}"
        );
    }
    Ok(Some((fl, modifier)))
}

/// A configured loss, its inputs and the entry point.
#[derive(Clone, Copy)]
struct Case<'a> {
    fl: SoftmaxFocal<'a>,
    shape: Shape,
    logits: &'a [f32],
    weights: Option<&'a [f32]>,
    entry: Entry,
}

impl Case<'_> {
    /// Calls `entry` with `kernel`, output to `out`.
    fn call<T: SoftmaxTarget>(
        &self,
        kernel: Kernel,
        entry: Entry,
        targets: &[T],
        out: &mut [f32],
    ) -> Result<Option<f32>, FocalError> {
        let fl = self.fl.with_kernel(kernel);
        let x = self.logits;
        match (entry, self.weights) {
            (Entry::Loss(r), None) => fl.loss(x, targets, r).map(Some),
            (Entry::Loss(r), Some(w)) => fl.loss_weighted(x, targets, w, r).map(Some),
            (Entry::PerElement(_), None) => fl.loss_per_element(x, targets, out).map(|()| None),
            (Entry::PerElement(_), Some(w)) => fl
                .loss_per_element_weighted(x, targets, w, out)
                .map(|()| None),
            (Entry::AndGrad(r, _), None) => fl.loss_and_grad(x, targets, r, out).map(Some),
            (Entry::AndGrad(r, _), Some(w)) => {
                fl.loss_and_grad_weighted(x, targets, w, r, out).map(Some)
            }
        }
    }

    /// Row `p`'s logits, class order.
    fn row(&self, p: usize) -> Vec<f32> {
        (0..self.shape.classes)
            .map(|j| self.logits[self.shape.at(p, j)])
            .collect()
    }

    /// Runs the case with both kernels and checks the outcome; `view` is the targets as the
    /// checks see them, `reference(p)` row `p`'s [`RowReference`], `None` for an ignored
    /// row; `grad_measured`: the gradient's accuracy is checked.
    fn check<T: SoftmaxTarget>(
        &self,
        targets: &[T],
        view: SoftmaxTargets,
        reference: impl Fn(usize, &[f32]) -> Option<RowReference>,
        grad_measured: bool,
    ) {
        let entry = self.entry;
        let soft = matches!(view, SoftmaxTargets::Soft(_));
        // Poly-1 (ε ≠ 0) takes hard targets only, the first thing every entry point checks.
        let want = if soft && self.fl.epsilon().is_some_and(|e| e != 0.0) {
            Err(FocalError::PolyWithSoftTargets)
        } else {
            expect::softmax(
                entry,
                self.shape,
                self.fl
                    .ignore_index()
                    .filter(|_| matches!(view, SoftmaxTargets::Classes(_))),
                self.logits,
                view,
                self.weights,
            )
        };
        let out_len = entry.output().map_or(0, |(_, n)| n);
        let mut outs = [vec![0.0f32; out_len], vec![0.0f32; out_len]];
        let mut values = [None; 2];
        for (k, kernel) in [Kernel::Simd, Kernel::Libm].into_iter().enumerate() {
            let got = self.call(kernel, entry, targets, &mut outs[k]);
            assert!(
                expect::same(&got.map(|_| ()), &want.map(|_| ())),
                "{kernel:?} {entry:?} {:?}: got {got:?}, want {want:?}",
                self.fl
            );
            values[k] = got.ok().flatten();
        }
        let Ok(counted) = want else { return };
        let rows = self.logits.len() / self.shape.classes;
        let weight = |p: usize| self.weights.map_or(1.0, |w| f64::from(w[p]));
        let extra = if self.weights.is_some() { 2.0 } else { 0.0 };
        let mut elements = [vec![0.0f32; rows], vec![0.0f32; rows]];
        for (k, kernel) in [Kernel::Simd, Kernel::Libm].into_iter().enumerate() {
            let r = self.call(kernel, Entry::PerElement(rows), targets, &mut elements[k]);
            assert!(r.is_ok(), "{kernel:?}: per-element of a valid input: {r:?}");
        }
        let refs: Vec<_> = (0..rows).map(|p| reference(p, &self.row(p))).collect();
        let every_row_decided = refs.iter().flatten().all(|r| r.decided);
        let (mut allowed_sum, mut magnitude_sum, mut exact_sum) = (0.0, 0.0, 0.0);
        for p in 0..rows {
            let (s, l, w) = (elements[0][p], elements[1][p], weight(p));
            let Some(r) = &refs[p] else {
                assert!(s == 0.0 && l == 0.0, "ignored row {p}: losses {s}, {l}");
                continue;
            };
            let loss = r.loss;
            for v in [s, l] {
                assert!(
                    !v.is_nan() && (v >= 0.0 || r.loss_scale > loss),
                    "row {p}: loss {v} (ref {loss}, w {w})"
                );
                if r.decided && r.loss_scale * w <= f64::from(f32::MAX) / 2.0 {
                    assert!(v.is_finite(), "row {p}: loss {v}, ref {loss}, w {w}");
                }
            }
            let allowed = allowance(s, l, r.loss_scale * w, r.bound, extra);
            assert!(
                !r.decided || within(s, l, allowed),
                "row {p} {:?} (w {w}): Simd loss {s} vs Libm {l} (ref {loss}, bound {})",
                self.row(p),
                r.bound
            );
            allowed_sum += allowed;
            magnitude_sum += f64::from(l).abs();
            exact_sum += r.loss_scale * w;
        }
        let Some(reduction) = entry.reduction() else {
            for (k, out) in outs.iter().enumerate() {
                assert!(
                    out.iter()
                        .zip(&elements[k])
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "per-element entry and its re-run differ"
                );
            }
            return;
        };
        let divisor = match reduction {
            Reduction::Sum => 1.0,
            Reduction::Mean => counted.max(1) as f64,
            Reduction::MeanOver(d) => f64::from(d),
        };
        let (Some(s), Some(l)) = (values[0], values[1]) else {
            panic!("a reducing entry returned no value: {values:?}");
        };
        for v in [s, l] {
            assert!(!v.is_nan(), "{entry:?}: reduced loss NaN");
            if every_row_decided && exact_sum / divisor <= f64::from(f32::MAX) / 4.0 {
                assert!(
                    v.is_finite(),
                    "{entry:?}: reduced {v}, exact {}",
                    exact_sum / divisor
                );
            }
        }
        let allowed = (allowed_sum + SUM_ULPS * EPS * magnitude_sum) / divisor
            + 2.0 * ulp(f64::from(s.abs().max(l.abs())))
            + f64::from(f32::MIN_POSITIVE);
        assert!(
            !every_row_decided || within(s, l, allowed),
            "{entry:?}: Simd {s} vs Libm {l} (allowed {allowed})"
        );
        if !matches!(entry, Entry::AndGrad(..)) {
            return;
        }
        for (p, reference) in refs.iter().enumerate().take(rows) {
            let w = weight(p) / divisor;
            for j in 0..self.shape.classes {
                let i = self.shape.at(p, j);
                let (s, l) = (outs[0][i], outs[1][i]);
                let Some(r) = reference else {
                    assert!(s == 0.0 && l == 0.0, "ignored row {p}: grads {s}, {l}");
                    continue;
                };
                let (grad, scale) = (r.grad[j], r.grad_scale[j]);
                for v in [s, l] {
                    assert!(
                        !v.is_nan(),
                        "row {p} class {j}: grad NaN (ref {grad}, w/n {w})"
                    );
                    if r.decided && (scale * w).abs() <= f64::from(f32::MAX) / 4.0 {
                        assert!(
                            v.is_finite(),
                            "row {p} class {j}: grad {v} (ref {grad}, w/n {w})"
                        );
                    }
                }
                if grad_measured && r.decided {
                    assert!(
                        within(s, l, allowance(s, l, scale * w, r.bound, 4.0)),
                        "row {p} {:?} class {j} (w/n {w}): Simd grad {s} vs Libm {l} (ref {grad}, bound {})",
                        self.row(p),
                        r.bound
                    );
                }
            }
        }
    }
}

/// A config: C, γ, α, ignore index, layout; `Err` (checked against the documented rules)
/// where the builder rejects them.
fn config<'a>(
    u: &mut Unstructured,
    alpha: &'a mut Vec<f32>,
) -> Result<Option<(SoftmaxFocal<'a>, Shape)>> {
    let classes = match u.int_in_range(0u8..=15)? {
        0 => u.arbitrary::<usize>()?,
        1 => u.int_in_range(0..=1)?,
        2 | 3 => u.int_in_range(13..=40)?,
        _ => u.int_in_range(2..=12)?,
    };
    let gamma = decode::exponent(u)?;
    let built = SoftmaxFocal::new(classes, gamma);
    let want = if !(2..=1 << 24).contains(&classes) {
        Err(FocalError::InvalidNumClasses {
            num_classes: classes,
        })
    } else if !(gamma.is_finite() && gamma >= 0.0) {
        Err(FocalError::InvalidGamma { gamma })
    } else {
        Ok(())
    };
    assert!(
        expect::same(&built.map(|_| ()), &want),
        "new({classes}, {gamma}): {built:?}"
    );
    let Ok(mut fl) = built else { return Ok(None) };
    if u.ratio(1u8, 3)? {
        let len = decode::length(u, classes.min(64), true)?;
        *alpha = decode::values(u, len, |u| decode::weight(u, true))?;
        let built = fl.with_alpha(alpha);
        let want = expect::length(Operand::Alpha, classes, alpha.len()).and_then(|()| match alpha
            .iter()
            .position(|a| !(a.is_finite() && *a >= 0.0))
        {
            Some(class) => Err(FocalError::InvalidClassAlpha {
                class,
                value: alpha[class],
            }),
            None => Ok(()),
        });
        assert!(
            expect::same(&built.map(|_| ()), &want),
            "with_alpha({alpha:?}): {built:?}"
        );
        let Ok(with) = built else { return Ok(None) };
        fl = with;
    }
    if u.arbitrary()? {
        let ignore = match u.int_in_range(0u8..=3)? {
            0 => -100,
            1 => 255,
            2 => u.arbitrary()?,
            _ => u.int_in_range(0..=classes as i64)?,
        };
        fl = fl.with_ignore_index(ignore);
    }
    let spatial = if u.arbitrary()? {
        let spatial = match u.int_in_range(0u8..=7)? {
            0 => u.arbitrary()?,
            1 => 0,
            _ => u.int_in_range(1..=9)?,
        };
        let built = fl.with_layout(Layout::ChannelsFirst { spatial });
        let want = if spatial == 0 || classes.checked_mul(spatial).is_none() {
            Err(FocalError::InvalidSpatial { spatial })
        } else {
            Ok(())
        };
        assert!(
            expect::same(&built.map(|_| ()), &want),
            "spatial {spatial}: {built:?}"
        );
        let Ok(with) = built else { return Ok(None) };
        fl = with;
        spatial
    } else {
        1
    };
    Ok(Some((
        fl.with_kernel(decode::kernel(u)?),
        Shape { classes, spatial },
    )))
}

fn run(u: &mut Unstructured) -> Result<()> {
    let mut alpha = Vec::new();
    let Some((fl, shape)) = config(u, &mut alpha)? else {
        return Ok(());
    };
    let wild = u.ratio(1u8, 4)?;
    // Keep a case small: at most 2048 logits.
    let row = shape.classes.saturating_mul(shape.spatial);
    if row > 2048 {
        return Ok(());
    }
    let images = u.int_in_range(0..=2048 / row)?.min(6);
    let len = decode::length(u, images * row, wild)?;
    let logits = decode::values(u, len, |u| decode::logit(u, wild))?;
    let rows = len / shape.classes;
    let weighted = u.arbitrary::<bool>()?;
    let weights_len = decode::length(u, rows, wild)?;
    let weights = decode::values(u, weights_len, |u| decode::weight(u, wild))?;
    let entry = match u.int_in_range(0u8..=2)? {
        0 => Entry::Loss(decode::reduction(u, wild)?),
        1 => Entry::PerElement(decode::length(u, rows, wild)?),
        _ => Entry::AndGrad(decode::reduction(u, wild)?, decode::length(u, len, wild)?),
    };
    let case = Case {
        fl,
        shape,
        logits: &logits,
        weights: weighted.then_some(&weights[..]),
        entry,
    };
    match u.int_in_range(0u8..=6)? {
        0 => hard::<i64>(u, &case, rows, wild),
        1 => hard::<i32>(u, &case, rows, wild),
        2 => hard::<u32>(u, &case, rows, wild),
        3 => hard::<u16>(u, &case, rows, wild),
        4 => hard::<u8>(u, &case, rows, wild),
        5 => hard::<usize>(u, &case, rows, wild),
        _ => soft(u, &case, wild),
    }
}

/// Class-index targets of type `T`.
fn hard<T: Class>(u: &mut Unstructured, case: &Case, rows: usize, wild: bool) -> Result<()> {
    let (classes, ignore) = (case.shape.classes, case.fl.ignore_index());
    let len = decode::length(u, rows, wild)?;
    let targets: Vec<T> = decode::values(u, len, |u| {
        Ok(if decode::anything(u, wild)? {
            T::arbitrary(u)?
        } else if let Some(i) = ignore.filter(|_| u.ratio(1u8, 8).unwrap_or(false)) {
            T::from_i64(i)
        } else {
            T::from_i64(u.int_in_range(0..=classes as i64 - 1)?)
        })
    })?;
    let view: Vec<i64> = targets.iter().map(|&t| t.as_i64()).collect();
    let Some((fl, modifier)) = modifier(u, case.fl)? else {
        return Ok(());
    };
    let case = &Case { fl, ..*case };
    let alpha = case.fl.alpha();
    let gamma = case.fl.gamma();
    case.check(
        &targets,
        SoftmaxTargets::Classes(&view),
        |p, row| {
            let c = view[p];
            if Some(c) == ignore {
                return None;
            }
            let c = c as usize;
            let a = alpha.map_or(1.0, |a| a[c]);
            let bound = bound(row, core::iter::once(c), gamma);
            Some(match modifier {
                Modifier::Plain => RowReference::of(reference::hard(row, c, gamma, a), bound),
                Modifier::Poly1(eps) => {
                    RowReference::poly1(reference::hard_poly1(row, c, gamma, a, eps), bound)
                }
                Modifier::Reduced(th) => RowReference {
                    decided: decided(row, core::iter::once(c), th),
                    ..RowReference::of(reference::hard_reduced(row, c, gamma, a, th), bound)
                },
            })
        },
        true,
    );
    Ok(())
}

/// Soft (probability) targets, one per logit: rows that sum to 1 (in `f32`), or in a wild
/// case sometimes anything in [0, 1] or beyond.
fn soft(u: &mut Unstructured, case: &Case, wild: bool) -> Result<()> {
    let shape = case.shape;
    let n = case.logits.len();
    let len = decode::length(u, n, wild)?;
    let mut targets = vec![0.0f32; len];
    let rows = len / shape.classes;
    for p in 0..rows.min(n / shape.classes) {
        let raw: Vec<u8> = decode::values(u, shape.classes, |u| u.arbitrary())?;
        let total: u32 = raw.iter().map(|&r| u32::from(r)).sum();
        for (j, &r) in raw.iter().enumerate() {
            let i = shape.at(p, j);
            if i < len {
                targets[i] = if total == 0 {
                    f32::from(u8::from(j == 0))
                } else {
                    f32::from(r) / total as f32
                };
            }
        }
    }
    for t in targets.iter_mut() {
        if decode::anything(u, wild)? {
            *t = decode::unit(u, true)?;
        }
    }
    let Some((fl, modifier)) = modifier(u, case.fl)? else {
        return Ok(());
    };
    let case = &Case { fl, ..*case };
    let (gamma, alpha) = (case.fl.gamma(), case.fl.alpha());
    case.check(
        &targets,
        SoftmaxTargets::Soft(&targets),
        |p, row| {
            let y: Vec<f32> = (0..shape.classes)
                .map(|j| targets[shape.at(p, j)])
                .collect();
            let with_target = || (0..shape.classes).filter(|&j| y[j] != 0.0);
            let bound = bound(row, with_target(), gamma);
            Some(match modifier {
                // Poly-1 is an error here; the plain reference is never used.
                Modifier::Plain | Modifier::Poly1(_) => {
                    RowReference::of(reference::soft(row, &y, gamma, alpha), bound)
                }
                Modifier::Reduced(th) => RowReference {
                    decided: decided(row, with_target(), th),
                    ..RowReference::of(reference::soft_reduced(row, &y, gamma, alpha, th), bound)
                },
            })
        },
        false,
    );
    Ok(())
}
