#!/usr/bin/env python3
"""Generate tests/data/sigmoid_reference.csv: reference values for the binary
(sigmoid) focal loss and its gradient with respect to the logit.

torchvision's sigmoid_focal_loss in float64 with autograd where it is accurate
(|x| <= 10), mpmath at 50 digits elsewhere and at +-inf, each torchvision row
cross-checked against mpmath. What the grid is, how every value is checked and
the file format: docs/reference-vectors.md.

Requirements: python3 (tested with 3.11);
    pip install torch==2.15.0 torchvision==0.29.2 mpmath==1.3.0 numpy==2.4.6
(the default PyPI torch wheel is the CUDA build; only its CPU path is used).

Usage (from the repository root):
    python3 tools/gen_sigmoid_reference.py            # writes tests/data/sigmoid_reference.csv
    python3 tools/gen_sigmoid_reference.py -o out.csv # write elsewhere
It prints a short accuracy summary (torchvision vs mpmath) to stderr.
"""

import math
import os
import sys

import mpmath
import numpy as np
import torch
import torchvision
from mpmath import mp, mpf

from reference_common import abort_if, fmt, fmt_alpha, start, to_f64, write_csv

GAMMAS = [0.0, 0.5, 1.0, 2.0, 2.5, 3.0, 5.0]
ALPHAS = [None, 0.25, 0.75]
HARD_TARGETS = [0.0, 1.0]
SOFT_TARGETS = [0.1, 0.25, 0.5, 0.9]
TARGETS = HARD_TARGETS + SOFT_TARGETS

_POSITIVE_LOGITS = [
    0.01, 0.1, 0.25, 0.3333333, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 7.123, 8.0,
    10.0, 12.0, 15.5, 17.0, 20.0, 30.0, 40.0, 60.0, 88.0, 100.0,
]
# Exactly representable as float32: round to float32 first, then widen.
LOGITS = sorted(
    {float(np.float32(v)) for v in _POSITIVE_LOGITS}
    | {float(-np.float32(v)) for v in _POSITIVE_LOGITS}
    | {0.0}
)
INF_LOGITS = [-math.inf, math.inf]

TORCHVISION_MAX_ABS_LOGIT = 10.0

# Acceptance of torchvision against mpmath for |x| <= 10.  Near x = 0 the two
# agree to ~1e-15; the float64 error of torchvision's formula then grows like
# eps * |x| * e^|x|, because quantities of size e^-|x| (1 - sigmoid(x), and the
# BCE of a confident correct logit) come out of subtractions of O(1) or O(|x|)
# numbers.  Measured: <= 7.5e-13 up to |x| = 7.123, 1.6e-12 at |x| = 8,
# 1.9e-11 at |x| = 10 (3.5e-11 at 12, 4e-9 at 15.5, 100% wrong from 40 on).
# So the check is 1e-12, widened by that error model where it exceeds 1e-12.
RTOL = 1e-12
EPS = 2.0 ** -52


def tolerance(x):
    return max(RTOL, EPS * (1.0 + abs(x)) * math.exp(abs(x)))


# Analytic derivative vs mpmath.diff, both in mpmath at 50 digits.
DIFF_RTOL = mpf("1e-35")


# --------------------------------------------------------------------------
# Exact values (mpmath)
# --------------------------------------------------------------------------

def alpha_t_of(alpha, t):
    if alpha is None:
        return mpf(1)
    a, t = mpf(alpha), mpf(t)
    return a * t + (1 - a) * (1 - t)


def softplus(x):
    """log(1 + exp(x)) without cancellation."""
    return max(x, mpf(0)) + mpmath.log1p(mpmath.exp(-abs(x)))


def exact_parts(x, t, gamma, alpha):
    """Return (loss, grad, |terms| scale of grad) for finite x, in mpmath."""
    x, t, g = mpf(x), mpf(t), mpf(gamma)
    p = 1 / (1 + mpmath.exp(-x))        # sigmoid(x)
    q = 1 / (1 + mpmath.exp(x))         # 1 - sigmoid(x), no cancellation
    ce = t * softplus(-x) + (1 - t) * softplus(x)
    m = p * (1 - t) + q * t             # 1 - p_t, no cancellation
    at = alpha_t_of(alpha, t)
    mod = m ** g                        # (1-p_t)^gamma; m > 0 for finite x
    loss = at * ce * mod
    term1 = at * (p * (1 - t) - q * t) * mod          # (p - t)*(1-p_t)^g
    term2 = at * g * ce * m ** (g - 1) * p * q * (1 - 2 * t) if g != 0 else mpf(0)
    grad = term1 + term2
    return loss, grad, abs(term1) + abs(term2)


def inf_limit(x, t, gamma, alpha):
    """Mathematical limits (loss, grad) at x = +-inf for hard t."""
    assert t in (0.0, 1.0) and math.isinf(x)
    s = 1.0 if t == 1.0 else -1.0
    at = 1.0 if alpha is None else (alpha if t == 1.0 else 1.0 - alpha)
    right_side = (x > 0) == (t == 1.0)
    if right_side:
        return 0.0, 0.0
    return math.inf, -s * at


# --------------------------------------------------------------------------
# torchvision float64 + autograd
# --------------------------------------------------------------------------

def torchvision_values(xs, ts, gamma, alpha):
    x = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    t = torch.tensor(ts, dtype=torch.float64)
    loss = torchvision.ops.sigmoid_focal_loss(
        x, t, alpha=-1.0 if alpha is None else alpha, gamma=gamma, reduction="none"
    )
    # Elements are independent, so the gradient of the sum is the
    # element-wise derivative.
    loss.sum().backward()
    return loss.detach().tolist(), x.grad.tolist()


# --------------------------------------------------------------------------

def rel_err(approx, exact, scale=None):
    exact_f = float(exact)
    denom = abs(exact_f) if scale is None else max(abs(exact_f), float(scale))
    if approx == exact_f:
        return 0.0
    if not math.isfinite(approx):
        return math.inf
    if denom == 0.0:
        return math.inf
    return abs(approx - exact_f) / denom


def off(a, e):
    """Relative error of torchvision's `a` against the exact `e`, NaN and infinities as inf."""
    if math.isnan(a):
        return math.inf
    if a == e:
        return 0.0
    if math.isinf(a) or math.isinf(e):
        return math.inf
    return abs(a - e) / abs(e) if e != 0 else math.inf


def main():
    args = start(__doc__, "sigmoid_reference.csv")
    rows = []
    failures = []
    # The largest relative error of torchvision for |x| <= 10, and where: of the loss, of the
    # grad relative to |grad| and relative to max(|grad|, |term1|+|term2|).
    worst = {"loss": (0.0, None), "grad": (0.0, None), "grad_scaled": (0.0, None)}
    tv_outside = []                # torchvision behaviour for |x| > 10 / inf

    for gamma in GAMMAS:
        for alpha in ALPHAS:
            cases = []
            for t in TARGETS:
                xs = LOGITS + (INF_LOGITS if t in HARD_TARGETS else [])
                cases += [(x, t) for x in xs]
            cases.sort(key=lambda c: (c[1], c[0]))
            tv_loss, tv_grad = torchvision_values(
                [c[0] for c in cases], [c[1] for c in cases], gamma, alpha)

            for (x, t), tl, tg in zip(cases, tv_loss, tv_grad):
                key = dict(gamma=gamma, alpha=alpha, x=x, t=t)
                if math.isinf(x):
                    loss, grad = inf_limit(x, t, gamma, alpha)
                    # Verify the limit with mpmath at a huge finite logit.
                    big = mpf("1e6") if x > 0 else mpf("-1e6")
                    bl, bg, _ = exact_parts(big, t, gamma, alpha)
                    ok_l = bl < mpf("1e-400000") if loss == 0.0 else bl > mpf("1e4")
                    ok_g = abs(bg - grad) < mpf("1e-30")
                    if not (ok_l and ok_g):
                        failures.append(f"inf limit mismatch {key}: limit=({loss},{grad}) "
                                        f"mpmath@1e6=({mpmath.nstr(bl, 5)},{mpmath.nstr(bg, 5)})")
                    rows.append((gamma, alpha, x, t, loss, grad, "mpmath"))
                    tv_outside.append((key, tl, tg, loss, grad))
                    continue

                el, eg, scale = exact_parts(x, t, gamma, alpha)
                # Cross-check the analytic derivative numerically.
                nd = mpmath.diff(lambda z: exact_parts(z, t, gamma, alpha)[0], mpf(x))
                if abs(nd - eg) > DIFF_RTOL * max(scale, mpf("1e-300")):
                    failures.append(f"analytic vs mpmath.diff mismatch {key}: "
                                    f"{mpmath.nstr(eg, 20)} vs {mpmath.nstr(nd, 20)}")

                el64, eg64 = to_f64(el), to_f64(eg)
                if abs(x) <= TORCHVISION_MAX_ABS_LOGIT:
                    rl, rg, rgs = rel_err(tl, el), rel_err(tg, eg), rel_err(tg, eg, scale)
                    for name, err in (("loss", rl), ("grad", rg), ("grad_scaled", rgs)):
                        if err > worst[name][0]:
                            worst[name] = (err, key)
                    # Loss: plain relative error.  Gradient: relative to the
                    # larger of |grad| and the sum of the magnitudes of its two
                    # terms (the natural float error bound when they cancel).
                    if not (rl <= tolerance(x) and rgs <= tolerance(x)):
                        failures.append(
                            f"torchvision disagrees with mpmath {key}: loss {tl!r} vs {el64!r} "
                            f"(rel {rl:.3g}), grad {tg!r} vs {eg64!r} (rel {rgs:.3g})")
                    rows.append((gamma, alpha, x, t, tl, tg, "torchvision"))
                else:
                    rows.append((gamma, alpha, x, t, el64, eg64, "mpmath"))
                    tv_outside.append((key, tl, tg, el64, eg64))

    abort_if(failures)
    header = [
        "# Reference values for the binary (sigmoid) focal loss, reduction='none'.",
        "# Generated by tools/gen_sigmoid_reference.py; do not edit by hand.",
        f"# torch {torch.__version__}, torchvision {torchvision.__version__}, "
        f"mpmath {mpmath.__version__} (mp.dps={mp.dps}), numpy {np.__version__}, "
        f"python {sys.version.split()[0]}",
        "# loss = alpha_t * ce * (1-p_t)^gamma, p = sigmoid(logit), ce = BCE-with-logits,",
        "#   p_t = p*t + (1-p)*(1-t), alpha_t = alpha*t + (1-alpha)*(1-t) (alpha 'none': alpha_t = 1).",
        "# grad = d loss / d logit.",
        "# source=torchvision: torchvision.ops.sigmoid_focal_loss in float64 on CPU, grad by autograd",
        f"#   (used for |logit| <= {TORCHVISION_MAX_ABS_LOGIT:g}; checked against mpmath: rel err of loss, and of grad",
        "#   relative to max(|grad|, sum of |its terms|), <= max(1e-12, 2^-52*(1+|x|)*e^|x|), i.e. 1e-12 up to",
        f"#   |x|~7, ~5e-11 at |x|=10; max seen: loss {worst['loss'][0]:.2g}, grad {worst['grad_scaled'][0]:.2g}).",
        "# source=mpmath: exact value at 50 digits, rounded to nearest float64 (|logit| > 10),",
        "#   or for logit = +-inf the mathematical limit (loss 0 or inf; grad 0 or -(2t-1)*alpha_t).",
        "# Logits are float32-exact; targets 0.1 and 0.9 are the float64 values nearest 0.1 and 0.9.",
        f"# rows: {len(rows)}",
        "gamma,alpha,logit,target,loss,grad,source",
    ]
    write_csv(args.output, header, (
        [fmt(gamma), fmt_alpha(alpha), fmt(x), fmt(t), fmt(loss), fmt(grad), src]
        for gamma, alpha, x, t, loss, grad, src in rows))

    print(f"wrote {len(rows)} rows to {args.output}", file=sys.stderr)
    for name, what in (("loss", "max rel err torchvision vs mpmath, |x|<=10: loss"),
                       ("grad", "  grad (rel to |grad|)"),
                       ("grad_scaled", "  grad (rel to max(|grad|, |terms|))")):
        print(f"{what} {worst[name][0]:.3g} at {worst[name][1]}", file=sys.stderr)

    # Where torchvision float64 goes wrong outside the range it is used in.
    bad = []
    for key, tl, tg, el, eg in tv_outside:
        lo, go = off(tl, el), off(tg, eg)
        if lo > 1e-6 or go > 1e-6:
            bad.append((max(lo, go), key, tl, tg, el, eg))
    print(f"torchvision float64 off by >1e-6 relative (or NaN/inf) on {len(bad)} of "
          f"{len(tv_outside)} rows with |x| > 10 or infinite x", file=sys.stderr)
    if os.environ.get("VERBOSE"):
        for _, key, tl, tg, el, eg in bad:
            print(f"  {key}: torchvision loss={tl!r} grad={tg!r}  exact loss={el!r} grad={eg!r}",
                  file=sys.stderr)


if __name__ == "__main__":
    main()
