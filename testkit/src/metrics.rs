//! Scores of a binary classifier on its minority (positive) class: precision, recall, F1 at a
//! threshold, and average precision over all thresholds; mean and spread over runs.

/// Precision, recall and F1 of the positive class when `score ≥ threshold` predicts positive.
/// A ratio with a zero denominator is 0 (no positive predicted: precision 0).
pub fn precision_recall_f1(scores: &[f32], labels: &[u8], threshold: f32) -> (f64, f64, f64) {
    let (mut tp, mut fp, mut fn_) = (0u32, 0u32, 0u32);
    for (&s, &y) in scores.iter().zip(labels) {
        match (s >= threshold, y == 1) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fn_ += 1,
            (false, false) => {}
        }
    }
    let ratio = |a: u32, b: u32| {
        if b == 0 {
            0.0
        } else {
            f64::from(a) / f64::from(b)
        }
    };
    let precision = ratio(tp, tp + fp);
    let recall = ratio(tp, tp + fn_);
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    (precision, recall, f1)
}

/// Average precision: `Σ_k (R_k − R_{k−1}) P_k` over the distinct scores taken as thresholds
/// from the highest down (ties form one step), as scikit-learn's `average_precision_score`.
/// 0 when there is no positive.
pub fn average_precision(scores: &[f32], labels: &[u8]) -> f64 {
    let positives = labels.iter().filter(|&&y| y == 1).count();
    if positives == 0 {
        return 0.0;
    }
    let mut ranked: Vec<(f32, u8)> = scores.iter().copied().zip(labels.iter().copied()).collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut tp, mut seen, mut ap, mut last_recall) = (0usize, 0usize, 0.0f64, 0.0f64);
    let mut i = 0;
    while i < ranked.len() {
        let score = ranked[i].0;
        // `total_cmp`, not `==`: a NaN score forms its own group instead of never ending one.
        while i < ranked.len() && ranked[i].0.total_cmp(&score).is_eq() {
            tp += usize::from(ranked[i].1 == 1);
            seen += 1;
            i += 1;
        }
        let recall = tp as f64 / positives as f64;
        ap += (recall - last_recall) * (tp as f64 / seen as f64);
        last_recall = recall;
    }
    ap
}

/// Mean and sample standard deviation (0 for fewer than two values).
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    if values.is_empty() {
        return (0.0, 0.0);
    }
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, 0.0);
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}
