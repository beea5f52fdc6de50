//! Does focal loss help on imbalanced data? Trains a logistic regression and a one-hidden-layer
//! MLP with this crate's `train` module on
//!
//! 1. a synthetic problem with one positive per hundred negatives (most negatives easy, some
//!    hard ones overlapping the positives), and
//! 2. scikit-learn's `digits`: "is it an 8?" (about 1:9),
//!
//! with cross-entropy, α-balanced cross-entropy and focal loss at the four presets, over ten
//! seeds, and prints the minority class's precision, recall and F1 (threshold 0.5) and
//! average precision as mean ± standard deviation over the seeds, with the training time per
//! epoch.
//!
//! `cargo run --release --example train_imbalanced` (5–8 s on two cores).
//! `-- --device-run` instead trains the configuration the Cortex-M3/M4F/M33 firmware trains
//! (`testkit/src/device_run.rs`) and prints its loss bits and weight fingerprint, which
//! `cargo xtask train-on-device` compares with the device's.

use std::io::Write as _;
use std::time::Instant;

use focal_loss::train::{LogisticRegression, Mlp, Model, Sgd, Trainer};
use focal_loss::{FocalError, SigmoidFocal};
use testkit::{device_run, digits, metrics, synthetic};

/// Seeds per configuration.
const SEEDS: u32 = 10;
/// Mini-batch size.
const BATCH: usize = 32;
/// Hidden units of the MLP.
const HIDDEN: usize = 16;

/// A labelled set: `features` row-major.
struct Set {
    features: Vec<f32>,
    labels: Vec<u8>,
}

/// A training and a test set.
struct Split {
    train: Set,
    test: Set,
}

/// The losses compared, by name.
fn objectives() -> Result<Vec<(&'static str, SigmoidFocal)>, FocalError> {
    Ok(vec![
        ("cross-entropy", SigmoidFocal::new(0.0, None)?),
        (
            "α-balanced CE (α 0.75)",
            SigmoidFocal::new(0.0, Some(0.75))?,
        ),
        ("focal, balanced (γ 0, α 0.5)", SigmoidFocal::BALANCED),
        ("focal, mild (γ 1, α 0.5)", SigmoidFocal::MILD_IMBALANCE),
        ("focal, standard (γ 2, α 0.25)", SigmoidFocal::RETINANET),
        (
            "focal, extreme (γ 4, α 0.1)",
            SigmoidFocal::EXTREME_IMBALANCE,
        ),
    ])
}

/// The synthetic problem: 60 positives / 6000 negatives to train, 100 / 10000 to test.
fn synthetic_split(seed: u32) -> Split {
    let set = |seed: u32, positives: usize| {
        let n = positives * (synthetic::RATIO + 1);
        let mut features = vec![0.0f32; n * synthetic::FEATURES];
        let mut labels = vec![0u8; n];
        synthetic::generate(seed, &mut features, &mut labels);
        Set { features, labels }
    };
    Split {
        train: set(seed, 60),
        test: set(seed + 1000, 100),
    }
}

/// `digits`, 8 against the rest, split 70 / 30 within each class by `seed`.
fn digits_split(images: &[(u8, [f32; digits::FEATURES])], seed: u32) -> Split {
    let mut rng = focal_loss::train::Rng::new(seed);
    let mut train = Set {
        features: Vec::new(),
        labels: Vec::new(),
    };
    let mut test = Set {
        features: Vec::new(),
        labels: Vec::new(),
    };
    for class in 0..10u8 {
        let mut members: Vec<&[f32; digits::FEATURES]> = images
            .iter()
            .filter(|(l, _)| *l == class)
            .map(|(_, x)| x)
            .collect();
        for i in (1..members.len()).rev() {
            members.swap(i, rng.below(i as u32 + 1) as usize);
        }
        let cut = members.len() * 7 / 10;
        for (i, x) in members.into_iter().enumerate() {
            let set = if i < cut { &mut train } else { &mut test };
            set.features.extend_from_slice(x);
            set.labels.push(u8::from(class == 8));
        }
    }
    Split { train, test }
}

/// One configuration's scores on the test set, and its training seconds per epoch.
struct Scores {
    precision: f64,
    recall: f64,
    f1: f64,
    ap: f64,
    epoch_seconds: f64,
}

/// Trains `model` on `split.train` and scores it on `split.test`; `label` names the run in the
/// progress line.
fn fit<M: Model>(
    model: M,
    loss: SigmoidFocal,
    sgd: Sgd,
    epochs: usize,
    seed: u32,
    split: &Split,
    label: &str,
) -> Result<Scores, FocalError> {
    let mut trainer: Trainer<M, BATCH> = Trainer::new(model, loss, sgd, seed);
    let mut order = vec![0u32; split.train.labels.len()];
    let start = Instant::now();
    for epoch in 0..epochs {
        let l = trainer.epoch(&split.train.features, &split.train.labels, &mut order)?;
        eprint!(
            "\r\x1b[2K{label} epoch {:>2}/{epochs} loss {l:.5}",
            epoch + 1
        );
        let _ = std::io::stderr().flush();
    }
    let epoch_seconds = start.elapsed().as_secs_f64() / epochs as f64;
    let scores: Vec<f32> = split
        .test
        .features
        .chunks_exact(M::FEATURES)
        .map(|x| trainer.model().probability(x))
        .collect();
    let (precision, recall, f1) = metrics::precision_recall_f1(&scores, &split.test.labels, 0.5);
    let ap = metrics::average_precision(&scores, &split.test.labels);
    Ok(Scores {
        precision,
        recall,
        f1,
        ap,
        epoch_seconds,
    })
}

/// `mean ± sd` of one score over the seeds.
fn cell(runs: &[Scores], score: impl Fn(&Scores) -> f64) -> String {
    let values: Vec<f64> = runs.iter().map(score).collect();
    let (mean, sd) = metrics::mean_std(&values);
    format!("{mean:.3} ± {sd:.3}")
}

/// One table: every objective for one data set and model.
fn table(
    title: &str,
    splits: &[Split],
    epochs: usize,
    sgd: Sgd,
    run: impl Fn(SigmoidFocal, u32, &Split, &str) -> Result<Scores, FocalError>,
) -> Result<(), FocalError> {
    let mut rows = Vec::new();
    for (name, loss) in objectives()? {
        let mut runs = Vec::new();
        for (seed, split) in (1..).zip(splits) {
            let label = format!("{title} | {name} | seed {seed}/{SEEDS}");
            runs.push(run(loss, seed, split, &label)?);
        }
        rows.push((name, runs));
    }
    eprint!("\r\x1b[2K");
    println!(
        "\n### {title} ({epochs} epochs, batch {BATCH}, SGD lr {} momentum {}, {SEEDS} seeds)\n",
        sgd.learning_rate(),
        sgd.momentum()
    );
    println!("| loss | precision | recall | F1 | average precision | ms / epoch |");
    println!("|---|---|---|---|---|---|");
    for (name, runs) in &rows {
        let ms = runs.iter().map(|r| r.epoch_seconds).sum::<f64>() / runs.len() as f64 * 1e3;
        println!(
            "| {name} | {} | {} | {} | {} | {ms:.2} |",
            cell(runs, |r| r.precision),
            cell(runs, |r| r.recall),
            cell(runs, |r| r.f1),
            cell(runs, |r| r.ap),
        );
    }
    Ok(())
}

/// `--device-run`: the firmware's configuration, printed as the firmware prints it.
fn device_run() -> Result<(), FocalError> {
    let (features, labels) = synthetic::device_set();
    let mut order = vec![0u32; labels.len()];
    let model = device_run::train(&features, &labels, &mut order, |epoch, loss| {
        println!("epoch {epoch} loss {:08x}", loss.to_bits());
        println!("  mean loss {loss}");
    })?;
    for (k, bits) in device_run::weight_bits(&model).enumerate() {
        println!("weight {k} {bits:08x}");
    }
    println!("weights {:016x}", device_run::fingerprint(&model));
    Ok(())
}

fn main() -> Result<(), FocalError> {
    if std::env::args().any(|a| a == "--device-run") {
        return device_run();
    }
    let start = Instant::now();
    let synthetic: Vec<Split> = (1..=SEEDS).map(synthetic_split).collect();
    let images = digits::load();
    let digits: Vec<Split> = (1..=SEEDS).map(|s| digits_split(&images, s)).collect();
    println!("## Minority-class scores on the test sets (threshold 0.5), mean ± sd over seeds");

    let (lr_sgd, mlp_sgd) = (Sgd::new(0.1, 0.9)?, Sgd::new(0.05, 0.9)?);
    let epochs = 40;
    table(
        "synthetic 1:100, logistic regression",
        &synthetic,
        epochs,
        lr_sgd,
        |l, s, d, p| {
            let m = LogisticRegression::<{ synthetic::FEATURES }>::zeroed();
            fit(m, l, lr_sgd, epochs, s, d, p)
        },
    )?;
    table(
        "synthetic 1:100, MLP 2-16-1",
        &synthetic,
        epochs,
        mlp_sgd,
        |l, s, d, p| {
            let m = Mlp::<{ synthetic::FEATURES }, HIDDEN>::init(s);
            fit(m, l, mlp_sgd, epochs, s, d, p)
        },
    )?;
    let epochs = 80;
    table(
        "digits, 8 vs rest, logistic regression",
        &digits,
        epochs,
        lr_sgd,
        |l, s, d, p| {
            let m = LogisticRegression::<{ digits::FEATURES }>::zeroed();
            fit(m, l, lr_sgd, epochs, s, d, p)
        },
    )?;
    table(
        "digits, 8 vs rest, MLP 64-16-1",
        &digits,
        epochs,
        mlp_sgd,
        |l, s, d, p| {
            let m = Mlp::<{ digits::FEATURES }, HIDDEN>::init(s);
            fit(m, l, mlp_sgd, epochs, s, d, p)
        },
    )?;
    println!("\n(total {:.1} s)", start.elapsed().as_secs_f64());
    Ok(())
}
