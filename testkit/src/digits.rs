//! `examples/data/digits.txt` (scikit-learn's `digits`, exported by `tools/export_digits.py`):
//! 8×8 images, pixels 0..16.

/// Pixels per image.
pub const FEATURES: usize = 64;

/// The file, compiled in.
const TEXT: &str = include_str!("../../examples/data/digits.txt");

/// Every image as `(label, pixels / 16)`.
pub fn load() -> Vec<(u8, [f32; FEATURES])> {
    TEXT.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (label, pixels) = l.split_once(':').expect("label:pixels");
            let mut x = [0.0f32; FEATURES];
            for (v, c) in x.iter_mut().zip(pixels.chars()) {
                *v = c.to_digit(17).expect("pixel 0..g") as f32 / 16.0;
            }
            (label.parse().expect("label"), x)
        })
        .collect()
}
