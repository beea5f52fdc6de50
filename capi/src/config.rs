//! The hyper-parameters as plain C structs, their defaults, and their validation.

use focal_loss::{Kernel, Layout, Reduction, SigmoidFocal, SoftmaxFocal};

use crate::status::{FL_OPERAND_CONFIG, FL_OPERAND_REDUCTION, fl_error};

/// Which implementation evaluates the loss: `FL_KERNEL_SIMD` or `FL_KERNEL_LIBM`.
pub type fl_kernel = u32;

/// The crate's own `exp` / `log` in a fixed order: the same bits on every target (default).
pub const FL_KERNEL_SIMD: fl_kernel = 0;
/// One element at a time with libm's `expf`, `logf` and `log1pf`: the scalar reference path.
pub const FL_KERNEL_LIBM: fl_kernel = 1;

/// How softmax logits are laid out: `FL_LAYOUT_ROW_MAJOR` or `FL_LAYOUT_CHANNELS_FIRST`.
pub type fl_layout = u32;

/// `(N, C)`: the classes of one sample are contiguous; `logits_len == N * C`, one target per
/// sample (default).
pub const FL_LAYOUT_ROW_MAJOR: fl_layout = 0;
/// `(N, C, S)` as in PyTorch segmentation (`S = H * W`, the config's `spatial`):
/// `logits_len == N * C * S`, one target per `(n, s)`, stored `(N, S)`.
pub const FL_LAYOUT_CHANNELS_FIRST: fl_layout = 1;

/// How the per-element losses are reduced: `FL_REDUCTION_MEAN`, `FL_REDUCTION_SUM` or
/// `FL_REDUCTION_MEAN_OVER`.
pub type fl_reduction_kind = u32;

/// The sum divided by the number of elements (softmax: of targets not ignored); 0 for
/// empty input, never NaN.
pub const FL_REDUCTION_MEAN: fl_reduction_kind = 0;
/// The sum of the per-element losses.
pub const FL_REDUCTION_SUM: fl_reduction_kind = 1;
/// The sum divided by `normalizer` (finite, > 0), e.g. RetinaNet's number of positive
/// anchors or mmdet's `avg_factor`.
pub const FL_REDUCTION_MEAN_OVER: fl_reduction_kind = 2;

/// A reduction; the gradient of a `loss_and_grad` call carries the same scale.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct fl_reduction {
    /// `FL_REDUCTION_MEAN`, `FL_REDUCTION_SUM` or `FL_REDUCTION_MEAN_OVER`.
    pub kind: fl_reduction_kind,
    /// The divisor of `FL_REDUCTION_MEAN_OVER`; ignored by the others.
    pub normalizer: f32,
}

/// The binary / multi-label (sigmoid) focal loss, torchvision's `sigmoid_focal_loss`:
/// `FL = alpha_t * (1 - p_t)^gamma * BCE`, `p = sigmoid(x)`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct fl_sigmoid_config {
    /// The focusing parameter gamma, finite and >= 0 (0: cross-entropy).
    pub gamma: f32,
    /// The weight alpha of the positive class, in [0, 1]; used only when `use_alpha` is not 0.
    pub alpha: f32,
    /// Non-zero: weight by `alpha_t = alpha * t + (1 - alpha) * (1 - t)`; 0: no alpha weighting.
    pub use_alpha: u8,
    /// `FL_KERNEL_SIMD` or `FL_KERNEL_LIBM`.
    pub kernel: fl_kernel,
}

/// The multi-class (softmax) focal loss, `FL = -alpha_c * (1 - p_c)^gamma * log(p_c)` with
/// `p = softmax(logits)` per sample (or pixel).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct fl_softmax_config {
    /// The number of classes C, 1 to 2^24.
    pub num_classes: usize,
    /// The focusing parameter gamma, finite and >= 0 (0: cross-entropy).
    pub gamma: f32,
    /// `num_classes` per-class weights, each finite and >= 0, read during each call (the
    /// caller keeps them); NULL for no alpha weighting.
    pub alpha: *const f32,
    /// Non-zero: targets equal to `ignore_index` give 0 loss and 0 gradient and are not
    /// counted by `FL_REDUCTION_MEAN`; 0: no target is ignored.
    pub use_ignore_index: u8,
    /// The ignored class index (PyTorch's `ignore_index`, commonly -100 or 255).
    pub ignore_index: i64,
    /// `FL_LAYOUT_ROW_MAJOR` or `FL_LAYOUT_CHANNELS_FIRST`.
    pub layout: fl_layout,
    /// Spatial positions per image for `FL_LAYOUT_CHANNELS_FIRST` (>= 1); ignored for
    /// row-major.
    pub spatial: usize,
    /// `FL_KERNEL_SIMD` or `FL_KERNEL_LIBM`.
    pub kernel: fl_kernel,
}

/// The kernel a code names.
fn kernel(code: fl_kernel) -> Result<Kernel, fl_error> {
    match code {
        FL_KERNEL_SIMD => Ok(Kernel::Simd),
        FL_KERNEL_LIBM => Ok(Kernel::Libm),
        other => Err(fl_error::option(FL_OPERAND_CONFIG, other)),
    }
}

impl fl_reduction {
    /// The Rust reduction (its normaliser is validated by the call).
    pub(crate) fn to_rust(self) -> Result<Reduction, fl_error> {
        match self.kind {
            FL_REDUCTION_MEAN => Ok(Reduction::Mean),
            FL_REDUCTION_SUM => Ok(Reduction::Sum),
            FL_REDUCTION_MEAN_OVER => Ok(Reduction::MeanOver(self.normalizer)),
            other => Err(fl_error::option(FL_OPERAND_REDUCTION, other)),
        }
    }
}

impl fl_sigmoid_config {
    /// The validated Rust configuration.
    pub(crate) fn focal(&self) -> Result<SigmoidFocal, fl_error> {
        let kernel = kernel(self.kernel)?;
        let alpha = (self.use_alpha != 0).then_some(self.alpha);
        Ok(SigmoidFocal::new(self.gamma, alpha)?.with_kernel(kernel))
    }
}

impl fl_softmax_config {
    /// The validated Rust configuration without its alpha, which the caller adds from the
    /// pointer once the class count is known to be valid.
    pub(crate) fn focal(&self) -> Result<SoftmaxFocal<'static>, fl_error> {
        let kernel = kernel(self.kernel)?;
        let layout = match self.layout {
            FL_LAYOUT_ROW_MAJOR => Layout::RowMajor,
            FL_LAYOUT_CHANNELS_FIRST => Layout::ChannelsFirst {
                spatial: self.spatial,
            },
            other => return Err(fl_error::option(FL_OPERAND_CONFIG, other)),
        };
        let mut fl = SoftmaxFocal::new(self.num_classes, self.gamma)?.with_kernel(kernel);
        if self.use_ignore_index != 0 {
            fl = fl.with_ignore_index(self.ignore_index);
        }
        Ok(fl.with_layout(layout)?)
    }
}

/// Exported init functions, in their own module: their `no_mangle` is an unsafe attribute.
#[allow(unsafe_code)]
mod init {
    use super::*;

    /// RetinaNet's default: gamma 2, alpha 0.25 (`use_alpha` 1), `FL_KERNEL_SIMD`.
    #[unsafe(no_mangle)]
    pub extern "C" fn fl_sigmoid_config_default() -> fl_sigmoid_config {
        fl_sigmoid_config {
            gamma: 2.0,
            alpha: 0.25,
            use_alpha: 1,
            kernel: FL_KERNEL_SIMD,
        }
    }

    /// `num_classes` classes, gamma 2, no alpha weighting (`alpha` NULL), no ignore index,
    /// `FL_LAYOUT_ROW_MAJOR` (`spatial` 1), `FL_KERNEL_SIMD`.
    #[unsafe(no_mangle)]
    pub extern "C" fn fl_softmax_config_default(num_classes: usize) -> fl_softmax_config {
        fl_softmax_config {
            num_classes,
            gamma: 2.0,
            alpha: core::ptr::null(),
            use_ignore_index: 0,
            ignore_index: -100,
            layout: FL_LAYOUT_ROW_MAJOR,
            spatial: 1,
            kernel: FL_KERNEL_SIMD,
        }
    }

    /// `FL_REDUCTION_MEAN`.
    #[unsafe(no_mangle)]
    pub extern "C" fn fl_reduction_mean() -> fl_reduction {
        fl_reduction {
            kind: FL_REDUCTION_MEAN,
            normalizer: 1.0,
        }
    }

    /// `FL_REDUCTION_SUM`.
    #[unsafe(no_mangle)]
    pub extern "C" fn fl_reduction_sum() -> fl_reduction {
        fl_reduction {
            kind: FL_REDUCTION_SUM,
            normalizer: 1.0,
        }
    }

    /// `FL_REDUCTION_MEAN_OVER` with `normalizer` (checked by the call: finite and > 0).
    #[unsafe(no_mangle)]
    pub extern "C" fn fl_reduction_mean_over(normalizer: f32) -> fl_reduction {
        fl_reduction {
            kind: FL_REDUCTION_MEAN_OVER,
            normalizer,
        }
    }
}

pub use init::*;
