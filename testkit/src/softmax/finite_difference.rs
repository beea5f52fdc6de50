//! Central differences of a loss over one row of logits, the check every softmax `f64`
//! reference gradient is held to.

/// Rows of logits the references' gradients are checked on: mixed signs, a tie, two
/// classes and five.
pub const ROWS: [&[f32]; 4] = [
    &[0.5, -1.25, 2.0],
    &[3.0, 3.0, -2.0, 0.0],
    &[-4.0, 1.0],
    &[0.1, 0.2, 0.3, 0.4, 0.5],
];

/// The step, `2^−10`: exact in `f32` added to the rows' logits, so `z ± h` are the points
/// the difference divides by `2h`.
pub const STEP: f32 = 1.0 / 1024.0;

/// `(loss(z + h·e_k) − loss(z − h·e_k)) / 2h` in `f64`, `h` = [`STEP`].
///
/// ```
/// use testkit::softmax::finite_difference::central;
/// let square = |z: &[f32]| f64::from(z[0]) * f64::from(z[0]);
/// assert_eq!(central(square, &[3.0, 1.0], 0), 6.0);
/// ```
pub fn central(loss: impl Fn(&[f32]) -> f64, row: &[f32], k: usize) -> f64 {
    let (mut up, mut down) = (row.to_vec(), row.to_vec());
    up[k] += STEP;
    down[k] -= STEP;
    (loss(&up) - loss(&down)) / (2.0 * f64::from(STEP))
}

/// Whether `grad` is within the references' finite-difference tolerance of `fd`:
/// `2·10⁻⁵` relative to `scale`, or absolute below `scale = 10⁻³`.
///
/// ```
/// use testkit::softmax::finite_difference::agrees;
/// assert!(agrees(1.0, 1.00001, 1.0));
/// assert!(!agrees(1.0, 1.0001, 1.0));
/// ```
pub fn agrees(grad: f64, fd: f64, scale: f64) -> bool {
    (fd - grad).abs() <= 2e-5 * scale.max(1e-3)
}
