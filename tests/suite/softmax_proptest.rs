//! Property tests of the softmax focal loss against the `f64` reference, and of the
//! channels-first layout against its transpose.

use focal_loss::{Kernel, Layout, Reduction, SoftmaxFocal};
use proptest::prelude::*;
use testkit::softmax::reference;
use testkit::ulp::ulp_error;

fn kernel() -> impl Strategy<Value = Kernel> {
    prop_oneof![Just(Kernel::Simd), Just(Kernel::Libm)]
}

/// (C, rows of logits, targets).
fn batch() -> impl Strategy<Value = (usize, Vec<f32>, Vec<u32>)> {
    (2usize..=24, 1usize..=20).prop_flat_map(|(c, n)| {
        (
            Just(c),
            proptest::collection::vec(-30.0f32..30.0, c * n),
            proptest::collection::vec(0..c as u32, n),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn integer_gamma_within_16_ulp(kernel in kernel(), (c, x, t) in batch(), g in 0u8..=3) {
        let g = f32::from(g);
        let fl = SoftmaxFocal::new(c, g).unwrap().with_kernel(kernel);
        let mut out = vec![0.0f32; t.len()];
        let mut grad = vec![0.0f32; x.len()];
        fl.loss_per_element(&x, &t, &mut out).unwrap();
        fl.loss_and_grad(&x, &t, Reduction::Sum, &mut grad).unwrap();
        for r in 0..t.len() {
            let (loss, want) = reference::hard(&x[r * c..(r + 1) * c], t[r] as usize, g, 1.0);
            if let Some(e) = ulp_error(out[r], loss) {
                prop_assert!(e <= 16.0, "loss row {}: {} vs {} ({:.1} ULP)", r, out[r], loss, e);
            }
            for j in 0..c {
                if let Some(e) = ulp_error(grad[r * c + j], want[j]) {
                    prop_assert!(e <= 16.0, "grad row {} class {}: {} vs {} ({:.1} ULP)", r, j, grad[r * c + j], want[j], e);
                }
            }
        }
    }

    #[test]
    fn channels_first_is_a_transpose(
        (c, x, t) in batch(),
        images in 1usize..=3,
        g in prop_oneof![Just(0.0f32), Just(2.0), Just(0.7)],
    ) {
        // Reinterpret the rows as images of `spatial` pixels (the largest image count up to
        // `images` that divides the rows).
        let images = (1..=images).rev().find(|d| t.len() % d == 0).unwrap_or(1);
        let spatial = t.len() / images;
        let mut cf = vec![0.0f32; x.len()];
        for img in 0..images {
            for s in 0..spatial {
                for j in 0..c {
                    cf[(img * c + j) * spatial + s] = x[(img * spatial + s) * c + j];
                }
            }
        }
        let rm = SoftmaxFocal::new(c, g).unwrap();
        let cfl = rm.with_layout(Layout::ChannelsFirst { spatial }).unwrap();
        let mut g_rm = vec![0.0f32; x.len()];
        let mut g_cf = vec![0.0f32; x.len()];
        let a = rm.loss_and_grad(&x, &t, Reduction::Mean, &mut g_rm).unwrap();
        let b = cfl.loss_and_grad(&cf, &t, Reduction::Mean, &mut g_cf).unwrap();
        prop_assert_eq!(a.to_bits(), b.to_bits());
        for img in 0..images {
            for s in 0..spatial {
                for j in 0..c {
                    let p = g_rm[(img * spatial + s) * c + j].to_bits();
                    let q = g_cf[(img * c + j) * spatial + s].to_bits();
                    prop_assert_eq!(p, q);
                }
            }
        }
    }
}
