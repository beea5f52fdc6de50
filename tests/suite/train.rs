//! The `train` module and the support code of `examples/train_imbalanced.rs` (in `testkit`):
//! training lowers the loss for every objective, the metrics are right on a hand-made case,
//! bad inputs are errors, and training is deterministic.

use focal_loss::train::{LogisticRegression, Mlp, Model, Sgd, Trainer};
use focal_loss::{FocalError, Operand, SigmoidFocal};
use testkit::{device_run, metrics, synthetic};

/// The synthetic problem, 20 positives and 2000 negatives.
fn synthetic_set(seed: u32) -> (Vec<f32>, Vec<u8>) {
    let n = 20 * (synthetic::RATIO + 1);
    let mut x = vec![0.0f32; n * synthetic::FEATURES];
    let mut y = vec![0u8; n];
    synthetic::generate(seed, &mut x, &mut y);
    (x, y)
}

/// Every objective of the example.
fn objectives() -> Vec<SigmoidFocal> {
    vec![
        SigmoidFocal::new(0.0, None).unwrap(),
        SigmoidFocal::new(0.0, Some(0.75)).unwrap(),
        SigmoidFocal::BALANCED,
        SigmoidFocal::MILD_IMBALANCE,
        SigmoidFocal::RETINANET,
        SigmoidFocal::EXTREME_IMBALANCE,
    ]
}

/// Epoch losses of `epochs` epochs.
fn losses<M: Model>(model: M, loss: SigmoidFocal, sgd: Sgd, epochs: usize) -> Vec<f32> {
    let (x, y) = synthetic_set(3);
    let mut order = vec![0u32; y.len()];
    let mut t: Trainer<M, 32> = Trainer::new(model, loss, sgd, 11);
    (0..epochs)
        .map(|_| t.epoch(&x, &y, &mut order).unwrap())
        .collect()
}

#[test]
fn training_lowers_the_loss_for_every_objective() {
    for loss in objectives() {
        for l in [
            losses(
                LogisticRegression::<2>::zeroed(),
                loss,
                Sgd::new(0.1, 0.9).unwrap(),
                10,
            ),
            losses(Mlp::<2, 8>::init(5), loss, Sgd::new(0.05, 0.9).unwrap(), 10),
        ] {
            let (first, last) = (l[0], l[l.len() - 1]);
            assert!(l.iter().all(|v| v.is_finite()), "{loss:?}: {l:?}");
            assert!(last < 0.7 * first, "{loss:?}: {first} -> {last}");
        }
    }
}

#[test]
fn history_keeps_the_epoch_losses() {
    let (x, y) = synthetic_set(4);
    let mut order = vec![0u32; y.len()];
    let sgd = Sgd::new(0.1, 0.9).unwrap();
    let mut t: Trainer<LogisticRegression<2>, 16> = Trainer::new(
        LogisticRegression::zeroed(),
        SigmoidFocal::RETINANET,
        sgd,
        1,
    );
    let got: Vec<f32> = (0..3)
        .map(|_| t.epoch(&x, &y, &mut order).unwrap())
        .collect();
    let kept: Vec<f32> = t.history().to_vec();
    assert_eq!(kept, got);
}

#[test]
fn training_is_deterministic() {
    let (x, y) = synthetic_set(synthetic::DEVICE_SEED);
    let run = || {
        let mut order = vec![0u32; y.len()];
        let model = device_run::train(&x, &y, &mut order, |_, _| {}).unwrap();
        device_run::fingerprint(&model)
    };
    assert_eq!(run(), run());
}

#[test]
fn bad_inputs_are_errors() {
    let sgd = Sgd::new(0.1, 0.5).unwrap();
    let mut t: Trainer<LogisticRegression<2>, 4> = Trainer::new(
        LogisticRegression::zeroed(),
        SigmoidFocal::RETINANET,
        sgd,
        1,
    );
    let x = [0.0f32; 6];
    assert_eq!(
        t.epoch(&x, &[0, 1, 0], &mut [0; 2]),
        Err(FocalError::LengthMismatch {
            operand: Operand::Order,
            expected: 3,
            found: 2
        })
    );
    assert_eq!(
        t.epoch(&x, &[0, 2, 1], &mut [0; 3]),
        Err(FocalError::InvalidTarget {
            index: 1,
            value: 2.0
        })
    );
    assert_eq!(t.model(), &LogisticRegression::zeroed());
    for bad in [f32::NAN, f32::INFINITY] {
        let mut features = x;
        features[3] = bad;
        assert_eq!(
            t.epoch(&features, &[0, 1, 0], &mut [0; 3]),
            Err(FocalError::NonFiniteFeature { index: 3 })
        );
    }
    assert_eq!(t.model(), &LogisticRegression::zeroed());
    // A model that overflows to +∞ and −∞ on one sample gives a NaN logit: the error names
    // the sample, not its place in the shuffled batch.
    let mut t: Trainer<LogisticRegression<2>, 4> = Trainer::new(
        LogisticRegression::new([f32::MAX, -f32::MAX], 0.0),
        SigmoidFocal::RETINANET,
        sgd,
        1,
    );
    let features = [0.0f32, 0.0, 4.0, 4.0, 0.0, 0.0];
    assert_eq!(
        t.epoch(&features, &[0, 1, 0], &mut [0; 3]),
        Err(FocalError::NonFiniteLogit { index: 1 })
    );
    assert!(matches!(
        Sgd::new(f32::NAN, 0.0),
        Err(FocalError::InvalidLearningRate { value }) if value.is_nan()
    ));
    assert!(matches!(
        Sgd::new(f32::INFINITY, 0.0),
        Err(FocalError::InvalidLearningRate { .. })
    ));
    assert!(matches!(
        Sgd::new(0.1, -0.1),
        Err(FocalError::InvalidMomentum { .. })
    ));
}

#[test]
fn gradients_match_finite_differences() {
    // d logit / d parameter of the MLP against central differences of its logit.
    let m = Mlp::<3, 4>::init(8);
    let x = [0.7f32, -1.2, 0.4];
    let mut g = Mlp::<3, 4>::zeroed();
    m.add_gradient(&x, 1.0, &mut g);
    let analytic: Vec<f32> = g.parameters().collect();
    assert_eq!(analytic.len(), 3 * 4 + 4 + 4 + 1);
    for (k, &want) in analytic.iter().enumerate() {
        let h = 1e-2f32;
        let mut plus = m.clone();
        let mut minus = m.clone();
        *plus.parameters_mut().nth(k).unwrap() += h;
        *minus.parameters_mut().nth(k).unwrap() -= h;
        let fd = (plus.logit(&x) - minus.logit(&x)) / (2.0 * h);
        assert!((fd - want).abs() <= 2e-3, "parameter {k}: {fd} vs {want}");
    }
}

#[test]
fn metrics_on_a_hand_made_case() {
    // Ranked: 0.9 (+), 0.8 (−), 0.7 (+), 0.4 (+), 0.3 (−), 0.2 (−).
    let scores = [0.3f32, 0.9, 0.2, 0.7, 0.8, 0.4];
    let labels = [0u8, 1, 0, 1, 0, 1];
    // Threshold 0.5: predicted positive 0.9, 0.8, 0.7 → TP 2, FP 1, FN 1.
    let (p, r, f1) = metrics::precision_recall_f1(&scores, &labels, 0.5);
    assert_eq!((p, r), (2.0 / 3.0, 2.0 / 3.0));
    assert!((f1 - 2.0 / 3.0).abs() < 1e-15);
    // AP = 1/3·1 + 1/3·(2/3) + 1/3·(3/4) = 29/36 (scikit-learn gives 0.8055…).
    let ap = metrics::average_precision(&scores, &labels);
    assert!((ap - 29.0 / 36.0).abs() < 1e-15, "{ap}");
    // Ties form one step: both tied at the top, one positive → precision 1/2 at recall 1.
    assert_eq!(metrics::average_precision(&[0.5, 0.5], &[1, 0]), 0.5);
    // Nothing predicted positive: precision 0 by convention, recall 0, F1 0.
    assert_eq!(
        metrics::precision_recall_f1(&scores, &labels, 0.95),
        (0.0, 0.0, 0.0)
    );
    assert_eq!(metrics::average_precision(&scores, &[0; 6]), 0.0);
    let (mean, sd) = metrics::mean_std(&[1.0, 2.0, 3.0, 4.0]);
    assert_eq!(mean, 2.5);
    assert!((sd - (5.0f64 / 3.0).sqrt()).abs() < 1e-15);
}
