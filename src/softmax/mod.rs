//! Multi-class focal loss on softmax probabilities, per sample or per pixel.

mod across;
mod lanes;
mod math;
mod run;

use core::num::NonZeroUsize;

use crate::error::{FocalError, Operand, check_len};
use crate::focusing::Focusing;
use crate::sink::{Gradient, Losses, Sink, SumOnly};
use crate::target::SoftmaxTarget;
use crate::{Kernel, Reduction};
use math::Modifier;
use run::{Pass, Shape, checked_rows, counted_rows, run};

/// Largest `|Σ_j y_j − 1|` accepted for a row of soft targets. It covers the rounding of
/// `f32` probabilities (about `C · 2^-24`) for any realistic class count, and rejects
/// unnormalised rows.
pub const SOFT_TARGET_SUM_TOLERANCE: f32 = 1e-4;

/// Largest class count: class indices are compared as exact `f32` values.
const MAX_CLASSES: usize = 1 << 24;

/// How the logits of a batch are laid out in memory.
///
/// ```
/// use focal_loss::{Layout, Reduction, SoftmaxFocal};
/// // Two images of 2 classes × 3 pixels, PyTorch's (N, C, H·W) order.
/// let fl = SoftmaxFocal::new(2, 2.0)?.with_layout(Layout::ChannelsFirst { spatial: 3 })?;
/// let logits = [0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0];
/// let per_pixel_targets = [0u8, 1, 1, 0, 0, 1];
/// assert!(fl.loss(&logits, &per_pixel_targets, Reduction::Mean)?.is_finite());
/// # Ok::<(), focal_loss::FocalError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Layout {
    /// `(N, C)`: the classes of one sample are contiguous; `logits.len() == N · C`.
    #[default]
    RowMajor,
    /// `(N, C, S)` as in PyTorch segmentation (`S = H · W`): `logits.len() == N · C · S`, one
    /// target per `(n, s)`, stored `(N, S)`.
    ChannelsFirst {
        /// Spatial positions per image.
        spatial: usize,
    },
}

/// Softmax focal loss, `FL = −α_c (1 − p_c)^γ log p_c` with `p = softmax(logits)` per sample
/// (or pixel), optional per-class α, an optional ignore index, and soft targets with Keras's
/// `CategoricalFocalCrossentropy` semantics.
///
/// γ = 0 without α is exactly softmax cross-entropy.
///
/// Infinite logits give the mathematical limits: the classes at a row's maximum share its
/// probability equally, also when that maximum is +∞ or −∞ (a row of all −∞ is the limit of
/// equal logits, whose softmax is uniform whatever their value).
///
/// The config borrows its α (no allocation). To build one in a function and return it, keep
/// the α where it outlives the config: a `const`/`static` array (`with_alpha(&ALPHA)` then
/// gives a `SoftmaxFocal<'static>`), or the struct that holds the config.
///
/// ```
/// use focal_loss::{Kernel, Reduction, SoftmaxFocal};
/// let alpha = [0.25f32, 0.5, 1.0];
/// let fl = SoftmaxFocal::new(3, 2.0)?
///     .with_alpha(&alpha)?
///     .with_ignore_index(-100)
///     .with_kernel(Kernel::Simd);
/// let logits = [2.0f32, 0.1, -1.0, /* sample 2 */ 0.3, 0.2, 4.0];
/// let targets = [0i64, -100]; // the second sample is ignored
/// let mut grad = [0.0f32; 6];
/// let loss = fl.loss_and_grad(&logits, &targets, Reduction::Mean, &mut grad)?;
/// assert!(loss > 0.0 && grad[3..].iter().all(|&g| g == 0.0));
/// # Ok::<(), focal_loss::FocalError>(())
/// ```
#[derive(Clone, Copy, PartialEq)]
pub struct SoftmaxFocal<'a> {
    /// At least 2, so the passes divide by it without a zero check.
    classes: NonZeroUsize,
    /// Pixels per image: 1 for [`Layout::RowMajor`], else the layout's `spatial` (non-zero,
    /// and `classes · spatial` fits in `usize`).
    spatial: NonZeroUsize,
    gamma: f32,
    focusing: Focusing,
    alpha: Option<&'a [f32]>,
    ignore_index: Option<i64>,
    layout: Layout,
    kernel: Kernel,
    epsilon: Option<f32>,
    /// The reduced focal loss's threshold, in (0, 1].
    threshold: Option<f32>,
}

/// The hyper-parameters as given (γ as a number, not the internal evaluation strategy).
///
/// ```
/// let fl = focal_loss::SoftmaxFocal::new(3, 2.0)?.with_ignore_index(-100);
/// assert_eq!(
///     format!("{fl:?}"),
///     "SoftmaxFocal { num_classes: 3, gamma: 2.0, alpha: None, ignore_index: Some(-100), \
///      layout: RowMajor, kernel: Simd, epsilon: None, reduced_threshold: None }"
/// );
/// # Ok::<(), focal_loss::FocalError>(())
/// ```
impl core::fmt::Debug for SoftmaxFocal<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SoftmaxFocal")
            .field("num_classes", &self.classes.get())
            .field("gamma", &self.gamma)
            .field("alpha", &self.alpha)
            .field("ignore_index", &self.ignore_index)
            .field("layout", &self.layout)
            .field("kernel", &self.kernel)
            .field("epsilon", &self.epsilon)
            .field("reduced_threshold", &self.threshold)
            .finish()
    }
}

/// By hand rather than derived: a device log gets whether α is set, not up to 2^24 weights.
#[cfg(feature = "defmt")]
impl defmt::Format for SoftmaxFocal<'_> {
    fn format(&self, f: defmt::Formatter) {
        defmt::write!(
            f,
            "SoftmaxFocal {{ classes: {=usize}, gamma: {=f32}, alpha: {=str}, ignore_index: {}, \
             layout: {}, kernel: {}, epsilon: {}, reduced_threshold: {} }}",
            self.classes.get(),
            self.gamma,
            if self.alpha.is_some() {
                "per class"
            } else {
                "none"
            },
            self.ignore_index,
            self.layout,
            self.kernel,
            self.epsilon,
            self.threshold
        );
    }
}

impl<'a> SoftmaxFocal<'a> {
    /// A softmax focal loss over `num_classes` classes (2 ..= 2^24) with focusing parameter
    /// `gamma` (finite, >= 0).
    ///
    /// One class is rejected: its probability is 1 whatever the logits, so the loss and
    /// gradient would be 0 for any input. A single output is a binary problem:
    /// [`SigmoidFocal`](crate::SigmoidFocal).
    ///
    /// ```
    /// use focal_loss::{FocalError, SoftmaxFocal};
    /// assert!(SoftmaxFocal::new(10, 2.0).is_ok());
    /// assert_eq!(SoftmaxFocal::new(1, 2.0), Err(FocalError::InvalidNumClasses { num_classes: 1 }));
    /// ```
    pub fn new(num_classes: usize, gamma: f32) -> Result<Self, FocalError> {
        let classes = NonZeroUsize::new(num_classes)
            .filter(|c| (2..=MAX_CLASSES).contains(&c.get()))
            .ok_or(FocalError::InvalidNumClasses { num_classes })?;
        if !(gamma.is_finite() && gamma >= 0.0) {
            return Err(FocalError::InvalidGamma { gamma });
        }
        Ok(SoftmaxFocal {
            classes,
            spatial: NonZeroUsize::MIN,
            gamma,
            focusing: Focusing::of(gamma),
            alpha: None,
            ignore_index: None,
            layout: Layout::RowMajor,
            kernel: Kernel::Simd,
            epsilon: None,
            threshold: None,
        })
    }

    /// The same loss with focusing parameter `gamma` (finite, >= 0).
    ///
    /// ```
    /// use focal_loss::{FocalError, SoftmaxFocal};
    /// let fl = SoftmaxFocal::new(4, 2.0)?.with_gamma(0.5)?;
    /// assert_eq!(fl.gamma(), 0.5);
    /// assert_eq!(fl.with_gamma(-1.0), Err(FocalError::InvalidGamma { gamma: -1.0 }));
    /// # Ok::<(), FocalError>(())
    /// ```
    pub fn with_gamma(self, gamma: f32) -> Result<Self, FocalError> {
        let fresh = SoftmaxFocal::new(self.classes.get(), gamma)?;
        Ok(SoftmaxFocal {
            gamma,
            focusing: fresh.focusing,
            ..self
        })
    }

    /// Per-class weights α (length C, each finite and >= 0): a sample of class `c` is weighted
    /// by `alpha[c]`; soft targets weight class `j` by `alpha[j]`.
    ///
    /// There is no scalar α: kornia's scalar `alpha` weights every class alike, which is
    /// `&[alpha; C]` here (and torchvision's binary α is [`SigmoidFocal`](crate::SigmoidFocal)'s).
    ///
    /// ```
    /// use focal_loss::{FocalError, Operand, SoftmaxFocal};
    /// let fl = SoftmaxFocal::new(2, 2.0)?;
    /// assert!(fl.with_alpha(&[0.25, 0.75]).is_ok());
    /// assert_eq!(
    ///     fl.with_alpha(&[1.0]),
    ///     Err(FocalError::LengthMismatch { operand: Operand::Alpha, expected: 2, found: 1 })
    /// );
    /// # Ok::<(), FocalError>(())
    /// ```
    pub fn with_alpha(self, alpha: &'a [f32]) -> Result<Self, FocalError> {
        check_len(Operand::Alpha, self.classes.get(), alpha.len())?;
        if let Some((class, &value)) = alpha
            .iter()
            .enumerate()
            .find(|(_, a)| !(a.is_finite() && **a >= 0.0))
        {
            return Err(FocalError::InvalidClassAlpha { class, value });
        }
        Ok(SoftmaxFocal {
            alpha: Some(alpha),
            ..self
        })
    }

    /// Targets equal to `index` contribute 0 loss and 0 gradient and are not counted by
    /// `Reduction::Mean` (PyTorch's `ignore_index`, commonly −100 or 255).
    ///
    /// It applies to class-index targets; soft (`f32` probability) targets have no index, so
    /// the same config computes them as if no ignore index were set (as PyTorch's
    /// `cross_entropy` does).
    ///
    /// ```
    /// use focal_loss::{Reduction, SoftmaxFocal};
    /// let fl = SoftmaxFocal::new(2, 2.0)?.with_ignore_index(255);
    /// assert_eq!(fl.loss(&[1.0f32, 2.0], &[255u8], Reduction::Mean)?, 0.0);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub const fn with_ignore_index(mut self, index: i64) -> Self {
        self.ignore_index = Some(index);
        self
    }

    /// The memory layout of the logits ([`Layout::RowMajor`] by default).
    ///
    /// ```
    /// use focal_loss::{FocalError, Layout, SoftmaxFocal};
    /// let fl = SoftmaxFocal::new(4, 2.0)?;
    /// assert!(fl.with_layout(Layout::ChannelsFirst { spatial: 64 }).is_ok());
    /// assert_eq!(
    ///     fl.with_layout(Layout::ChannelsFirst { spatial: 0 }),
    ///     Err(FocalError::InvalidSpatial { spatial: 0 })
    /// );
    /// # Ok::<(), FocalError>(())
    /// ```
    pub fn with_layout(mut self, layout: Layout) -> Result<Self, FocalError> {
        self.spatial = match layout {
            Layout::RowMajor => NonZeroUsize::MIN,
            Layout::ChannelsFirst { spatial } => NonZeroUsize::new(spatial)
                .filter(|s| self.classes.checked_mul(*s).is_some())
                .ok_or(FocalError::InvalidSpatial { spatial })?,
        };
        self.layout = layout;
        Ok(self)
    }

    /// The same loss computed by `kernel` ([`Kernel::Simd`] by default).
    ///
    /// ```
    /// use focal_loss::{Kernel, SoftmaxFocal};
    /// let fl = SoftmaxFocal::new(5, 1.0)?.with_kernel(Kernel::Libm);
    /// assert_eq!(fl.kernel(), Kernel::Libm);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub const fn with_kernel(mut self, kernel: Kernel) -> Self {
        self.kernel = kernel;
        self
    }

    /// Poly-1 (Leng et al. 2022, *PolyLoss*): `FL + ε·(1 − p_c)^(γ+1)`, ε >= −1 and finite
    /// ([`FocalError::InvalidPolyEpsilon`], as
    /// [`SigmoidFocal::with_poly1`](crate::SigmoidFocal::with_poly1)). α multiplies the focal
    /// term only, as in the paper's reference code; the per-row weights of the `_weighted`
    /// entry points multiply both; ignored targets contribute nothing. ε = 0 is the focal
    /// loss bit for bit.
    ///
    /// Exact where the plain formula cancels: `−log p_c − (1 − p_c)` (ε = −1 without α, the
    /// paper's case) is computed as a sum of positive terms where `p_c >= 1/2`, from the
    /// other classes' sum `S'` (see `docs/variants.md`). Class-index targets only: soft
    /// targets with ε ≠ 0 are [`FocalError::PolyWithSoftTargets`] (the paper defines no
    /// soft-target focal form).
    ///
    /// ```
    /// use focal_loss::{FocalError, Reduction, SoftmaxFocal};
    /// let poly = SoftmaxFocal::new(3, 0.0)?.with_poly1(-1.0)?;
    /// // −ln p − (1 − p), p = 1/(1 + 2e^−20): about (1 − p)²/2 = 2e^−40; plain f32 gives 0.
    /// let loss = poly.loss(&[20.0f32, 0.0, 0.0], &[0u8], Reduction::Sum)?;
    /// assert!((loss / 8.4967e-18 - 1.0).abs() < 1e-3);
    /// assert_eq!(
    ///     SoftmaxFocal::new(3, 2.0)?.with_poly1(-1.5),
    ///     Err(FocalError::InvalidPolyEpsilon { epsilon: -1.5 })
    /// );
    /// # Ok::<(), FocalError>(())
    /// ```
    pub fn with_poly1(self, epsilon: f32) -> Result<Self, FocalError> {
        if !(epsilon.is_finite() && epsilon >= -1.0) {
            return Err(FocalError::InvalidPolyEpsilon { epsilon });
        }
        if self.threshold.is_some() {
            return Err(FocalError::PolyWithReducedThreshold);
        }
        Ok(SoftmaxFocal {
            epsilon: Some(epsilon),
            ..self
        })
    }

    /// Poly-1's ε, if set.
    ///
    /// ```
    /// let fl = focal_loss::SoftmaxFocal::new(7, 2.0)?;
    /// assert_eq!((fl.epsilon(), fl.with_poly1(1.0)?.epsilon()), (None, Some(1.0)));
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub const fn epsilon(&self) -> Option<f32> {
        self.epsilon
    }

    /// The reduced focal loss (Sergievskiy & Ponamarev 2019; segmentation_models_pytorch's
    /// `reduced_threshold`, there for the sigmoid form only): the modulating factor of the
    /// target class is 1 where `p_c < th` and `((1 − p_c)/th)^γ` elsewhere, `th` in (0, 1]
    /// ([`FocalError::InvalidReducedThreshold`]); an error with Poly-1
    /// ([`FocalError::PolyWithReducedThreshold`]). Soft targets take the factor per class,
    /// with `p_j` for `p_c`. The branch is decided on `1 − p_c` as the form computes it
    /// (`S'/S`, no subtraction) for `th >= 1/2`, so saturated logits do not flip it.
    ///
    /// `th = 1` is the cross-entropy (γ = 0) on hard targets, bit for bit.
    ///
    /// ```
    /// use focal_loss::{FocalError, Reduction, SoftmaxFocal};
    /// let (logits, targets) = ([2.0f32, 0.5, -1.0, 0.0, 3.0, 1.0], [0u8, 1]);
    /// let reduced = SoftmaxFocal::new(3, 2.0)?.with_reduced_threshold(1.0)?;
    /// let ce = SoftmaxFocal::new(3, 0.0)?;
    /// assert_eq!(
    ///     reduced.loss(&logits, &targets, Reduction::Sum)?,
    ///     ce.loss(&logits, &targets, Reduction::Sum)?
    /// );
    /// assert_eq!(
    ///     ce.with_reduced_threshold(0.0),
    ///     Err(FocalError::InvalidReducedThreshold { threshold: 0.0 })
    /// );
    /// assert_eq!(
    ///     ce.with_poly1(1.0)?.with_reduced_threshold(0.5),
    ///     Err(FocalError::PolyWithReducedThreshold)
    /// );
    /// # Ok::<(), FocalError>(())
    /// ```
    pub fn with_reduced_threshold(self, threshold: f32) -> Result<Self, FocalError> {
        if !crate::reduced::valid_threshold(threshold) {
            return Err(FocalError::InvalidReducedThreshold { threshold });
        }
        if self.epsilon.is_some() {
            return Err(FocalError::PolyWithReducedThreshold);
        }
        Ok(SoftmaxFocal {
            threshold: Some(threshold),
            ..self
        })
    }

    /// The reduced focal loss's threshold, if set.
    ///
    /// ```
    /// let fl = focal_loss::SoftmaxFocal::new(7, 2.0)?;
    /// assert_eq!(fl.reduced_threshold(), None);
    /// assert_eq!(fl.with_reduced_threshold(0.5)?.reduced_threshold(), Some(0.5));
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub const fn reduced_threshold(&self) -> Option<f32> {
        self.threshold
    }

    /// The number of classes C.
    ///
    /// ```
    /// assert_eq!(focal_loss::SoftmaxFocal::new(7, 2.0)?.num_classes(), 7);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub const fn num_classes(&self) -> usize {
        self.classes.get()
    }

    /// The focusing parameter γ.
    ///
    /// ```
    /// assert_eq!(focal_loss::SoftmaxFocal::new(7, 2.0)?.gamma(), 2.0);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub const fn gamma(&self) -> f32 {
        self.gamma
    }

    /// The per-class α, if any.
    ///
    /// ```
    /// assert_eq!(focal_loss::SoftmaxFocal::new(7, 2.0)?.alpha(), None);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub const fn alpha(&self) -> Option<&'a [f32]> {
        self.alpha
    }

    /// The ignore index, if any.
    ///
    /// ```
    /// let fl = focal_loss::SoftmaxFocal::new(7, 2.0)?.with_ignore_index(-100);
    /// assert_eq!(fl.ignore_index(), Some(-100));
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub const fn ignore_index(&self) -> Option<i64> {
        self.ignore_index
    }

    /// The memory layout of the logits.
    ///
    /// ```
    /// use focal_loss::{Layout, SoftmaxFocal};
    /// assert_eq!(SoftmaxFocal::new(7, 2.0)?.layout(), Layout::RowMajor);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub const fn layout(&self) -> Layout {
        self.layout
    }

    /// The kernel that evaluates the loss.
    ///
    /// ```
    /// use focal_loss::{Kernel, SoftmaxFocal};
    /// assert_eq!(SoftmaxFocal::new(7, 2.0)?.kernel(), Kernel::Simd);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub const fn kernel(&self) -> Kernel {
        self.kernel
    }

    /// The pass of one call, with the call's weights if it takes them.
    ///
    /// Always inlined, so that the kernel is a constant in a firmware that sets it once:
    /// out of line, every entry point of one kernel links the other kernel too (16 KiB on a
    /// Cortex-M0, `cargo xtask embedded-report`'s "all entry points" columns).
    #[inline(always)]
    fn pass<'p>(&self, weights: Option<&'p [f32]>) -> Pass<'p>
    where
        'a: 'p,
    {
        Pass {
            kernel: self.kernel,
            gamma: self.gamma,
            focusing: self.focusing,
            modifier: match (self.epsilon, self.threshold) {
                (Some(epsilon), _) if epsilon != 0.0 => Modifier::Poly1(epsilon),
                (_, Some(th)) => Modifier::Reduced(crate::reduced::Reduced::new(th, self.gamma)),
                _ => Modifier::Focal,
            },
            alpha: self.alpha,
            ignore_index: self.ignore_index,
            weights,
            shape: Shape {
                classes: self.classes,
                spatial: self.spatial,
            },
        }
    }

    /// The reduced loss.
    ///
    /// `targets`: one class index per sample (or pixel), or `f32` class probabilities with the
    /// logits' shape. `Reduction::Mean` divides by the number of targets that are not the
    /// ignore index (0 when there are none).
    ///
    /// ```
    /// use focal_loss::{Reduction, SoftmaxFocal};
    /// // γ = 0: cross-entropy; two equal logits give ln 2.
    /// let ce = SoftmaxFocal::new(2, 0.0)?.loss(&[0.5f32, 0.5], &[1u8], Reduction::Sum)?;
    /// assert!((ce - core::f32::consts::LN_2).abs() < 1e-7);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub fn loss<T: SoftmaxTarget>(
        &self,
        logits: &[f32],
        targets: &[T],
        reduction: Reduction,
    ) -> Result<f32, FocalError> {
        self.reduced(None, logits, targets, reduction)
    }

    /// Writes each sample's (or pixel's) loss to `out`, of length `logits.len() / C`; ignored
    /// targets give 0. On error the contents of `out` are unspecified.
    ///
    /// ```
    /// use focal_loss::SoftmaxFocal;
    /// let mut out = [0.0f32; 2];
    /// SoftmaxFocal::new(2, 2.0)?.loss_per_element(&[3.0, 0.0, 0.0, 3.0], &[0u8, 0], &mut out)?;
    /// assert!(out[0] < out[1]);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub fn loss_per_element<T: SoftmaxTarget>(
        &self,
        logits: &[f32],
        targets: &[T],
        out: &mut [f32],
    ) -> Result<(), FocalError> {
        self.per_element(None, logits, targets, out)
    }

    /// The reduced loss, and in `grad` (same length as `logits`) its gradient with respect to
    /// every logit, scaled consistently with `reduction`. Finite for every γ >= 0. On error the
    /// contents of `grad` are unspecified.
    ///
    /// ```
    /// use focal_loss::{Reduction, SoftmaxFocal};
    /// let fl = SoftmaxFocal::new(3, 0.5)?;
    /// let mut grad = [0.0f32; 3];
    /// // Confident and right: the gradient is tiny and finite, not NaN.
    /// fl.loss_and_grad(&[60.0, 0.0, 0.0], &[0u8], Reduction::Sum, &mut grad)?;
    /// assert!(grad.iter().all(|g| g.is_finite()));
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub fn loss_and_grad<T: SoftmaxTarget>(
        &self,
        logits: &[f32],
        targets: &[T],
        reduction: Reduction,
        grad: &mut [f32],
    ) -> Result<f32, FocalError> {
        self.reduced_with_grad(None, logits, targets, reduction, grad)
    }

    /// [`loss`](Self::loss) with a non-negative weight per sample (or pixel, for
    /// channels-first: one weight per target, `logits.len() / C` of them), as mmdet's and
    /// kornia's `weight`.
    ///
    /// A row's weight multiplies its loss and gradient; a zero weight makes the row
    /// contribute exactly 0, even where its loss is infinite. `Reduction::Mean` still divides
    /// by the number of targets that are not ignored (as mmdet does); use
    /// `Reduction::MeanOver` for another normaliser.
    ///
    /// ```
    /// use focal_loss::{Reduction, SoftmaxFocal};
    /// let fl = SoftmaxFocal::new(3, 2.0)?;
    /// let logits = [2.0f32, 0.1, -1.0, /* sample 2 */ 0.3, 0.2, 4.0];
    /// let only_first = fl.loss_weighted(&logits, &[0u8, 1], &[1.0, 0.0], Reduction::Sum)?;
    /// assert_eq!(only_first, fl.loss(&logits[..3], &[0u8], Reduction::Sum)?);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub fn loss_weighted<T: SoftmaxTarget>(
        &self,
        logits: &[f32],
        targets: &[T],
        weights: &[f32],
        reduction: Reduction,
    ) -> Result<f32, FocalError> {
        self.reduced(Some(weights), logits, targets, reduction)
    }

    /// [`loss_per_element`](Self::loss_per_element) with a non-negative weight per sample
    /// (or pixel): each row's weighted loss.
    ///
    /// ```
    /// use focal_loss::SoftmaxFocal;
    /// let mut out = [0.0f32; 2];
    /// let fl = SoftmaxFocal::new(2, 2.0)?;
    /// fl.loss_per_element_weighted(&[3.0, 0.0, 0.0, 3.0], &[1u8, 1], &[2.0, 0.0], &mut out)?;
    /// assert!(out[0] > 0.0 && out[1] == 0.0);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub fn loss_per_element_weighted<T: SoftmaxTarget>(
        &self,
        logits: &[f32],
        targets: &[T],
        weights: &[f32],
        out: &mut [f32],
    ) -> Result<(), FocalError> {
        self.per_element(Some(weights), logits, targets, out)
    }

    /// [`loss_and_grad`](Self::loss_and_grad) with a non-negative weight per sample (or
    /// pixel).
    ///
    /// ```
    /// use focal_loss::{Layout, Reduction, SoftmaxFocal};
    /// // One image, 2 classes × 2 pixels; the second pixel is weighted 0.
    /// let fl = SoftmaxFocal::new(2, 2.0)?.with_layout(Layout::ChannelsFirst { spatial: 2 })?;
    /// let mut grad = [0.0f32; 4];
    /// fl.loss_and_grad_weighted(&[0.5, 0.5, 0.0, 0.0], &[1u8, 1], &[1.0, 0.0], Reduction::Sum, &mut grad)?;
    /// assert!(grad[0] > 0.0 && grad[1] == 0.0 && grad[3] == 0.0);
    /// # Ok::<(), focal_loss::FocalError>(())
    /// ```
    pub fn loss_and_grad_weighted<T: SoftmaxTarget>(
        &self,
        logits: &[f32],
        targets: &[T],
        weights: &[f32],
        reduction: Reduction,
        grad: &mut [f32],
    ) -> Result<f32, FocalError> {
        self.reduced_with_grad(Some(weights), logits, targets, reduction, grad)
    }

    /// [`loss`](Self::loss), with the call's weights if it takes them.
    fn reduced<T: SoftmaxTarget>(
        &self,
        weights: Option<&[f32]>,
        logits: &[f32],
        targets: &[T],
        reduction: Reduction,
    ) -> Result<f32, FocalError> {
        let pass = self.pass(weights);
        let rows = checked_rows(&pass, logits, targets)?;
        let counted = counted_rows(&pass, rows, targets)?;
        let divisor = reduction.exact_divisor(counted)?;
        Ok(run(pass, logits, targets, SumOnly)?.divided_by(divisor))
    }

    /// [`loss_per_element`](Self::loss_per_element), with the call's weights if it takes
    /// them.
    fn per_element<T: SoftmaxTarget>(
        &self,
        weights: Option<&[f32]>,
        logits: &[f32],
        targets: &[T],
        out: &mut [f32],
    ) -> Result<(), FocalError> {
        let pass = self.pass(weights);
        let rows = checked_rows(&pass, logits, targets)?;
        let mut sink = Losses(out);
        sink.check_len(rows)?;
        counted_rows(&pass, rows, targets)?;
        run(pass, logits, targets, sink).map(|_| ())
    }

    /// [`loss_and_grad`](Self::loss_and_grad), with the call's weights if it takes them.
    fn reduced_with_grad<T: SoftmaxTarget>(
        &self,
        weights: Option<&[f32]>,
        logits: &[f32],
        targets: &[T],
        reduction: Reduction,
        grad: &mut [f32],
    ) -> Result<f32, FocalError> {
        let pass = self.pass(weights);
        let rows = checked_rows(&pass, logits, targets)?;
        let mut sink = Gradient { grad, scale: 1.0 };
        sink.check_len(logits.len())?;
        let counted = counted_rows(&pass, rows, targets)?;
        let divisor = reduction.exact_divisor(counted)?;
        sink.scale = divisor.reciprocal();
        let sum = run(pass, logits, targets, sink)?;
        Ok(sum.divided_by(divisor))
    }
}
