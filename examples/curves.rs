//! Writes `focal_curves.svg`: Figure 1 of Lin et al. (focal loss against the probability of
//! the ground-truth class, γ ∈ {0, 0.5, 1, 2, 5}) and beside it the magnitude of the gradient
//! with respect to the logit, both computed with this crate.
//!
//! `cargo run --release --example curves` (writes the file in the current directory; the
//! `docs/training.md` shows the committed one).

use std::fmt::Write as _;

use focal_loss::{FocalError, Reduction, SigmoidFocal};

/// The γ of the figure, with the colours of its curves.
const CURVES: [(f32, &str); 5] = [
    (0.0, "#1f77b4"),
    (0.5, "#ff7f0e"),
    (1.0, "#2ca02c"),
    (2.0, "#d62728"),
    (5.0, "#9467bd"),
];
/// Points per curve.
const POINTS: usize = 500;
/// Width and height of one panel's plot area.
const W: f64 = 400.0;
const H: f64 = 300.0;
/// Margin left of the first panel, above both, and between them.
const LEFT: f64 = 60.0;
const TOP: f64 = 40.0;
const GAP: f64 = 90.0;

/// One point of a curve: p_t, the loss, |d loss / d logit|.
struct Point {
    p: f64,
    loss: f64,
    grad: f64,
}

/// The points of one γ.
struct Curve {
    gamma: f32,
    points: Vec<Point>,
}

/// One panel's place and labels.
struct Panel {
    left: f64,
    title: &'static str,
    y_label: &'static str,
    y_max: f64,
    id: &'static str,
}

/// Loss and |d loss / d logit| at `p_t` for each γ, from the crate's kernels.
fn curves() -> Result<Vec<Curve>, FocalError> {
    let p: Vec<f32> = (1..POINTS).map(|i| i as f32 / POINTS as f32).collect();
    // The logit whose sigmoid is p, target 1: then p_t = p.
    let x: Vec<f32> = p.iter().map(|&p| (p / (1.0 - p)).ln()).collect();
    let t = vec![1u8; x.len()];
    let mut out = Vec::new();
    for (gamma, _) in CURVES {
        let fl = SigmoidFocal::new(gamma, None)?;
        let mut loss = vec![0.0f32; x.len()];
        let mut grad = vec![0.0f32; x.len()];
        fl.loss_per_element(&x, &t, &mut loss)?;
        fl.loss_and_grad(&x, &t, Reduction::Sum, &mut grad)?;
        let points = p
            .iter()
            .zip(loss.iter().zip(&grad))
            .map(|(&p, (&l, &g))| Point {
                p: f64::from(p),
                loss: f64::from(l),
                grad: f64::from(g.abs()),
            })
            .collect();
        out.push(Curve { gamma, points });
    }
    Ok(out)
}

/// One panel: axes, ticks, labels, and a polyline per curve of `value` against p_t.
fn panel(svg: &mut String, panel: &Panel, curves: &[Curve], value: impl Fn(&Point) -> f64) {
    let Panel {
        left,
        title,
        y_label,
        y_max,
        id,
    } = *panel;
    let (x0, y0) = (left, TOP + H);
    let sx = |p: f64| x0 + p * W;
    let sy = |v: f64| y0 - v / y_max * H;
    let _ = writeln!(
        svg,
        r#"<clipPath id="{id}"><rect x="{x0}" y="{TOP}" width="{W}" height="{H}"/></clipPath>"#
    );
    let _ = writeln!(
        svg,
        r##"<rect x="{x0}" y="{TOP}" width="{W}" height="{H}" fill="none" stroke="#444"/>"##
    );
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle" font-size="15">{title}</text>"#,
        x0 + W / 2.0,
        TOP - 14.0
    );
    for i in 0..=5 {
        let p = f64::from(i) / 5.0;
        let _ = writeln!(
            svg,
            r##"<line x1="{0}" y1="{y0}" x2="{0}" y2="{1}" stroke="#444"/><text x="{0}" y="{2}" text-anchor="middle" font-size="12">{p:.1}</text>"##,
            sx(p),
            y0 + 5.0,
            y0 + 19.0
        );
        let v = y_max * f64::from(i) / 5.0;
        let _ = writeln!(
            svg,
            r##"<line x1="{0}" y1="{1}" x2="{2}" y2="{1}" stroke="#444"/><text x="{3}" y="{4}" text-anchor="end" font-size="12">{v:.1}</text>"##,
            x0 - 5.0,
            sy(v),
            x0,
            x0 - 8.0,
            sy(v) + 4.0
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle" font-size="13">probability of ground truth class p_t</text>"#,
        x0 + W / 2.0,
        y0 + 40.0
    );
    let _ = writeln!(
        svg,
        r#"<text x="{0}" y="{1}" text-anchor="middle" font-size="13" transform="rotate(-90 {0} {1})">{y_label}</text>"#,
        x0 - 42.0,
        TOP + H / 2.0
    );
    for (curve, (_, colour)) in curves.iter().zip(CURVES) {
        let gamma = curve.gamma;
        let path: Vec<String> = curve
            .points
            .iter()
            .map(|pt| format!("{:.2},{:.2}", sx(pt.p), sy(value(pt).min(y_max * 1.5))))
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline clip-path="url(#{id})" fill="none" stroke="{colour}" stroke-width="2" points="{}"><title>γ = {gamma}</title></polyline>"#,
            path.join(" ")
        );
    }
    for (k, (gamma, colour)) in CURVES.iter().enumerate() {
        let y = TOP + 20.0 + 20.0 * k as f64;
        let x = x0 + W - 110.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{x}" y1="{y}" x2="{}" y2="{y}" stroke="{colour}" stroke-width="2"/><text x="{}" y="{}" font-size="13">γ = {gamma}</text>"#,
            x + 24.0,
            x + 30.0,
            y + 4.0
        );
    }
}

fn main() -> Result<(), FocalError> {
    let curves = curves()?;
    let width = LEFT + W + GAP + W + 20.0;
    let height = TOP + H + 60.0;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let loss = Panel {
        left: LEFT,
        title: "focal loss FL(p_t) = −(1 − p_t)^γ log p_t",
        y_label: "loss",
        y_max: 5.0,
        id: "loss",
    };
    panel(&mut svg, &loss, &curves, |p| p.loss);
    let grad = Panel {
        left: LEFT + W + GAP,
        title: "gradient magnitude |∂FL / ∂logit|",
        y_label: "|gradient|",
        y_max: 1.5,
        id: "grad",
    };
    panel(&mut svg, &grad, &curves, |p| p.grad);
    svg.push_str("</svg>\n");
    std::fs::write("focal_curves.svg", &svg).expect("write focal_curves.svg");
    // The points the README's table quotes, so the picture can be checked by eye.
    for curve in &curves {
        let at = |p: f64| {
            let near = |pt: &&Point| (pt.p - p).abs();
            curve
                .points
                .iter()
                .min_by(|a, b| near(a).total_cmp(&near(b)))
        };
        if let (Some(a), Some(b)) = (at(0.1), at(0.9)) {
            println!(
                "γ = {}: loss {:.4} at p_t 0.1, {:.5} at p_t 0.9; |grad| {:.4}, {:.5}",
                curve.gamma, a.loss, b.loss, a.grad, b.grad
            );
        }
    }
    println!("wrote focal_curves.svg");
    Ok(())
}
