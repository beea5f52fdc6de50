#!/usr/bin/env python3
"""Generate tests/data/variant_reference.csv: exact reference values of the focal family's
variants (FL*, Quality Focal, Varifocal, Asymmetric) and their gradients with respect to the
logit, from each peer's own formula evaluated in mpmath at 50 digits.

Each peer's formula is also run as a float64 port (forward as the peer writes it, backward by
the chain rule autograd applies to the same pieces; torch is not needed) and compared with the
exact values: the summary on stderr lists where it returns NaN or loses accuracy, for
docs/variants.md.

Requirements: python3 (tested with 3.11), mpmath==1.3.0.

Usage (from the repository root):
    python3 tools/gen_variant_reference.py            # writes tests/data/variant_reference.csv
    python3 tools/gen_variant_reference.py -o out.csv # write elsewhere

File format: one row per (variant, hyper-parameters, logit, target), columns
variant,p1,p2,p3,logit,target,loss,grad,loss_scale,grad_scale where p1..p3 are
focal_star: gamma, beta, alpha ('none'); quality: beta, -, -; varifocal: alpha, gamma,
iou_weighted (0/1); asymmetric: gamma_pos, gamma_neg, clip; poly1: gamma, alpha ('none'),
epsilon; reduced: gamma, alpha, threshold; normalized: gamma, alpha, - (one element per call). loss_scale and grad_scale are the
magnitudes the f32 rounding errors are relative to: |value|, plus, where a difference inside
the formula can vanish (QFL's and VFL's q - sigmoid(x), ASL's sigmoid(x) - m), the value's
sensitivity to that difference times the magnitude of its terms, plus, where the smaller
sigmoid is subnormal in f32, the gradient's absolute error from it (testkit's f64 reference
defines the same). Rows where a gradient's side of a jump is undetermined are left out.
"""

import math
import struct
import sys

import mpmath
from mpmath import mp, mpf

from reference_common import DPS, abort_if, fmt, start, to_f64, write_csv


def f32(v):
    """The float32 nearest to v, as a float."""
    return struct.unpack("f", struct.pack("f", v))[0]


_POSITIVE_LOGITS = [0.01, 0.1, 0.25, 0.3333333, 0.5, 1.0, 1.5, 2.0, 2.9375, 3.0, 5.0, 7.123,
                    10.0, 15.5, 17.0, 20.0, 30.0, 40.0, 60.0, 88.0, 100.0]
LOGITS = sorted({f32(v) for v in _POSITIVE_LOGITS} | {-f32(v) for v in _POSITIVE_LOGITS} | {0.0})
INF = [-math.inf, math.inf]
UNIT = [0.0, 1.0, f32(0.05), f32(0.1), 0.25, 0.5, 0.75, f32(0.9)]
BINARY = [0.0, 1.0]

CONFIGS = (
    [("focal_star", (g, b, a), UNIT) for g in (1.0, 2.0, 0.5) for b in (0.0, 1.0, -1.5)
     for a in (None, 0.25)]
    + [("quality", (b,), UNIT) for b in (0.0, 1.0, 2.0, 0.5, 2.5)]
    + [("varifocal", c, UNIT) for c in ((0.75, 2.0, True), (0.75, 2.0, False), (0.75, 0.5, True))]
    + [("asymmetric", c, BINARY) for c in ((1.0, 4.0, f32(0.05)), (0.0, 2.0, 0.0),
                                            (2.0, 1.0, f32(0.6)), (0.5, 2.5, f32(0.05)))]
    + [("poly1", (g, a, e), UNIT) for g in (0.0, 2.0, 0.5) for a in (None, 0.25)
       for e in (-1.0, 1.0)]
    + [("reduced", (g, a, th), UNIT) for g in (2.0, 0.5) for a in (None, 0.25)
       for th in (0.5, 1.0, 0.25)]
    + [("normalized", (g, a), UNIT) for g in (2.0, 0.5) for a in (None, 0.25)]
)

# How close to its zero, relative to its terms, a difference is of undetermined sign.
UNDETERMINED = mpf(2) ** -20
F32_MIN_NORMAL = mpf(2) ** -126
SUBNORMAL_FLOOR = mpf(2) ** -127  # half a subnormal step (2^-150) in units of 2^-23 of a scale
BIG = mpf(10) ** 6  # stands for +-inf in the exact formulas (e^-BIG is 0 to any precision used)


def sp(x):
    return max(x, mpf(0)) + mpmath.log1p(mpmath.exp(-abs(x)))


def sig(x):
    return 1 / (1 + mpmath.exp(-x))


def focal(x, t, g):
    """(loss, grad) of the alpha-free focal loss at a hard target."""
    s = 1 if t == 1 else -1
    z = s * x
    ce, q, p = sp(-z), sig(-z), sig(z)
    m = q ** g if g != 0 else mpf(1)
    return m * ce, s * (-m * (q + g * p * ce))


def log_excess(q, ce):
    """-ln(1 - q) - q, as the series sum q^k/k below q = 1/8 (no cancellation)."""
    if q < mpf(1) / 8:
        total, term, k = mpf(0), q * q, 2
        while term > total * mpf(10) ** (-60) or k < 4:
            total += term / k
            term *= q
            k += 1
        return total
    return ce - q


def option_parts(x, t):
    """(q, p_t, CE, dq/dx, dCE/dx, CE - q) of the sigmoid form at (x, t)."""
    sx, snx = sig(x), sig(-x)
    q = t * snx + (1 - t) * sx
    ce_pos, ce_neg = sp(-x), sp(x)
    ce = t * ce_pos + (1 - t) * ce_neg
    dq = (1 - 2 * t) * sx * snx
    dce = (1 - t) * sx - t * snx
    d = t * log_excess(snx, ce_pos) + (1 - t) * log_excess(sx, ce_neg)
    return q, t * sx + (1 - t) * snx, ce, dq, dce, d, (1 - t) * sx + t * snx


def q_power(q, dq, g):
    if g == 0:
        return mpf(1), mpf(0)
    m = q ** g
    return m, (g * q ** (g - 1) * dq if q != 0 else mpf(0))


def plain(loss, grad):
    return loss, grad, abs(loss), abs(grad)


def diff_terms(x, q):
    """(q - sigmoid(x), magnitude of its terms) as the kernels form it."""
    if q >= 0.5:
        return sig(-x) - (1 - q), (1 - q) + sig(-x)
    return q - sig(x), q + sig(x)


def exact(variant, params, x, t, strict=True):
    """(loss, grad, loss_scale, grad_scale) in mpmath, or (with `strict`) None for an
    undetermined row."""
    x, t = mpf(x), mpf(t)
    if variant == "focal_star":
        g, b, a = (mpf(params[0]), mpf(params[1]), params[2])
        at = mpf(1) if a is None else mpf(a) * t + (1 - mpf(a)) * (1 - t)
        s = 2 * t - 1
        u = g * x * s + b
        return plain(at * sp(-u) / g, -at * s * sig(-u))
    if variant == "quality":
        beta = mpf(params[0])
        if t in (0, 1):
            return plain(*focal(x, t, beta))
        d, c = diff_terms(x, t)
        a = abs(d)
        bce = t * sp(-x) + (1 - t) * sp(x)
        factor = a ** beta
        loss = bce * factor
        if a == 0:
            return loss, mpf(0), loss, mpf(0)
        spread = beta * bce * sig(x) * sig(-x)
        second = spread * a ** (beta - 1)
        grad = -d * factor - mpmath.sign(d) * second
        if strict and 0 < beta <= 1 and a <= c * UNDETERMINED:
            return None
        return (loss, grad, loss + beta * bce * a ** (beta - 1) * c,
                abs(d * factor) + second
                + ((beta + 1) * factor + spread * abs(beta - 1) * a ** (beta - 2)) * c)
    if variant == "varifocal":
        alpha, gamma, iou = mpf(params[0]), mpf(params[1]), params[2]
        if t == 0:
            loss, grad = focal(x, 0, gamma)
            return plain(alpha * loss, alpha * grad)
        w = t if iou else mpf(1)
        d, c = diff_terms(x, t)
        bce = sp(-x) if t == 1 else t * sp(-x) + (1 - t) * sp(x)
        return w * bce, -w * d, w * bce, w * c
    if variant == "asymmetric":
        gp, gn, m = mpf(params[0]), mpf(params[1]), mpf(params[2])
        if t == 1:
            return plain(*focal(x, 1, gp))
        if m == 0:
            return plain(*focal(x, 0, gn))
        sx, snx = sig(x), sig(-x)
        c = snx if (x >= 0 and m >= 0.5) else sx
        p_m = sx - m
        if strict and gn == 0 and abs(p_m) <= c * UNDETERMINED:
            return None
        if p_m <= 0:
            return plain(mpf(0), mpf(0))
        rest = 1 - p_m
        n = -mpmath.log(rest)
        power = p_m ** gn
        d_loss = (gn * p_m ** (gn - 1) * n if gn != 0 else 0) + power / rest
        second = ((abs(gn * (gn - 1) * p_m ** (gn - 2) * n) + 2 * gn * p_m ** (gn - 1) / rest)
                  if gn != 0 else 0) + power / rest ** 2
        return (power * n, sx * snx * d_loss, power * n + d_loss * c,
                sx * snx * (d_loss + second * c))
    if variant in ("poly1", "reduced", "normalized"):
        g, a = mpf(params[0]), params[1]
        at = mpf(1) if a is None else mpf(a) * t + (1 - mpf(a)) * (1 - t)
        q, p_t, ce, dq, dce, d, dce_mag = option_parts(x, t)
        m, dm = q_power(q, dq, g)
        if variant == "poly1":
            eps = mpf(params[2])
            a_eps = at + eps
            p = at * d + a_eps * q
            scale_p = at * d + abs(a_eps) * q
            if t in (0, 1):
                sign = -1 if t == 1 else 1
                dp = sign * q * (a_eps - eps * q)
                first = abs(dp) if eps >= 0 else abs(a_eps) * q + abs(eps) * q * q
            else:
                dp = at * dce + eps * dq
                first = at * dce_mag + abs(eps) * abs(dq)
            return m * p, m * dp + dm * p, m * scale_p, m * first + abs(dm) * scale_p
        if variant == "reduced":
            th = mpf(params[2])
            # p_t < th, on q = 1 - p_t from th = 1/2 on (p_t rounds to 1 at +-BIG).
            if (q > 1 - th) if th >= 0.5 else (p_t < th):
                m, dm = mpf(1), mpf(0)
            else:
                c = th ** (-g)
                m, dm = c * m, c * dm
            return (at * m * ce, at * (m * dce + dm * ce), at * m * ce,
                    at * (m * dce_mag + abs(dm * ce)))
        l, dl = at * m * ce, at * (m * dce + dm * ce)
        s_n = max(m, mpf("1e-6"))
        dl_mag = at * (m * dce_mag + abs(dm * ce)) / s_n
        if m < mpf("1e-6"):
            return l / s_n, dl / s_n, abs(l / s_n), dl_mag
        return l / s_n, at * dce, abs(l / s_n), dl_mag + abs(l * dm / s_n ** 2)
    raise ValueError(variant)


def exact_at(variant, params, x, t):
    """exact() at a finite logit, or its limit at +-inf: the values at BIG, the loss +inf
    where it still grows from BIG to 2 BIG; no difference cancels there, so the scales are
    the values' magnitudes."""
    if math.isfinite(x):
        v = exact(variant, params, x, t)
        smaller = sig(-abs(mpf(x)))
        if v is not None and smaller < F32_MIN_NORMAL:
            # The smaller sigmoid is subnormal in f32, known to half a subnormal step.
            loss, grad, ls, gs = v
            v = loss, grad, ls, gs + abs(grad) / smaller * SUBNORMAL_FLOOR
        return v
    side = 1 if x > 0 else -1
    v = exact(variant, params, side * BIG, t)
    if v is None:
        return None
    loss, grad, ls, gs = v
    # (Poly-1 with alpha_t + epsilon < 0 is negative there, tending to 0 from below.)
    if loss > 0 and exact(variant, params, 2 * side * BIG, t, False)[0] > loss * (1 + mpf("1e-9")):
        loss = mpf("inf")
    return loss, grad, abs(loss), abs(grad)


# --------------------------------------------------------------------------
# The peers' formulas in float64, forward and backward (autograd's chain rule).
# --------------------------------------------------------------------------

def t_sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def t_softplus(x):
    # torch's log1p(exp(-|x|)) + max(x, 0); exact at +-inf.
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def t_bce(x, t):
    """F.binary_cross_entropy_with_logits and its derivative sigmoid(x) - t."""
    if math.isinf(x):
        # (1 - t)*x + softplus(-x): inf - inf is NaN where the factor of x is 0.
        loss = (1 - t) * x + t_softplus(-x) if t != 1 else (0.0 * x if x > 0 else math.inf)
        return loss, t_sigmoid(x) - t
    return (1 - t) * x + t_softplus(-x), t_sigmoid(x) - t


def t_pow(base, e):
    """(base**e, d/dbase) as torch's pow and pow_backward (exponent 0 gives 0)."""
    value = base ** e
    if e == 0:
        return value, 0.0
    try:
        return value, e * base ** (e - 1)
    except ZeroDivisionError:
        return value, math.inf


def mul(a, b):
    """IEEE a*b (Python raises nothing, but inf*0 must be NaN)."""
    if (math.isinf(a) and b == 0) or (math.isinf(b) and a == 0):
        return math.nan
    return a * b


def peer(variant, params, x, t):
    """The peer's float64 (loss, grad)."""
    p = t_sigmoid(x)
    dp = mul(p, 1 - p)
    if variant == "focal_star":  # fvcore: -logsigmoid(gamma * x_t) / gamma (beta = 0 there)
        g, b, a = params
        s = 2 * t - 1
        u = g * mul(x, s) + b
        at = 1.0 if a is None else a * t + (1 - a) * (1 - t)
        return at * t_softplus(-u) / g, -at * s * t_sigmoid(-u)
    if variant == "quality":  # mmdet quality_focal_loss, use_sigmoid=True
        (beta,) = params
        bce, dbce = t_bce(x, t)
        d = p - t if t == 0 else t - p  # scale_factor = pred_sigmoid, or score - pred_sigmoid
        size, dsize = abs(d), (math.copysign(1.0, d) if d != 0 else 0.0)
        if t != 0:
            dsize = -dsize  # d/dx (t - p) = -p'
        w, dw = t_pow(size, beta)
        return mul(bce, w), mul(dbce, w) + mul(mul(bce, dw), mul(dsize, dp))
    if variant == "varifocal":  # mmdet varifocal_loss
        alpha, gamma, iou = params
        bce, dbce = t_bce(x, t)
        if t > 0:
            w = t if iou else 1.0
            return mul(bce, w), mul(dbce, w)
        w, dw = t_pow(abs(p - t), gamma)
        return mul(bce, alpha * w), mul(dbce, alpha * w) + mul(mul(bce, alpha * dw), dp)
    if variant == "asymmetric":  # timm AsymmetricLossMultiLabel (eps 1e-8)
        gp, gn, m = params
        eps = 1e-8
        if t == 1:
            lp = math.log(max(p, eps))
            dlp = dp / p if p > eps else 0.0
            w, dw = t_pow(1 - p, gp)
            return -mul(lp, w), -(mul(dlp, w) + mul(mul(lp, dw), -dp))
        xs_neg = 1 - p
        dxs = -dp
        if m > 0:
            xs_neg = xs_neg + m
            if xs_neg > 1:
                xs_neg, dxs = 1.0, 0.0
        ln = math.log(max(xs_neg, eps))
        dln = dxs / xs_neg if xs_neg > eps else 0.0
        w, dw = t_pow(1 - xs_neg, gn)
        return -mul(ln, w), -(mul(dln, w) + mul(mul(ln, dw), -dxs))
    if variant in ("poly1", "reduced", "normalized"):
        # PolyLoss's reference code (focal form) and smp's FocalLoss, as written.
        g, a = params[0], params[1]
        bce, dbce = t_bce(x, t)
        pt = p * t + (1 - p) * (1 - t)
        dpt = mul(dp, 2 * t - 1)
        at = 1.0 if a is None else a * t + (1 - a) * (1 - t)
        if variant == "poly1":
            eps = params[2]
            w, dw = t_pow(1 - pt, g)
            w1, dw1 = t_pow(1 - pt, g + 1)
            loss = at * mul(bce, w) + eps * w1
            grad = at * (mul(dbce, w) + mul(mul(bce, dw), -dpt)) + eps * mul(dw1, -dpt)
            return loss, grad
        if variant == "reduced":
            th = params[2]
            if pt < th:
                return at * bce, at * dbce
            w, dw = t_pow((1 - pt) / th, g)
            return at * mul(bce, w), at * (mul(dbce, w) + mul(mul(bce, dw), -dpt / th))
        w, dw = t_pow(1 - pt, g)
        s_n = max(w, 1e-6)
        ds = mul(dw, -dpt) if w >= 1e-6 else 0.0
        loss = at * mul(bce, w) / s_n
        dl = at * (mul(dbce, w) + mul(mul(bce, dw), -dpt))
        return loss, dl / s_n - mul(loss / s_n, ds)
    raise ValueError(variant)


def rel_off(got, want):
    if math.isnan(got):
        return math.inf
    if got == want:
        return 0.0
    if math.isinf(got) or math.isinf(want) or want == 0:
        return math.inf
    return abs(got - want) / abs(want)


def fmt_params(variant, params):
    cells = []
    for v in params:
        if v is None:
            cells.append("none")
        elif isinstance(v, bool):
            cells.append("1" if v else "0")
        else:
            cells.append(fmt(v))
    return cells + ["-"] * (3 - len(cells))


def main():
    args = start(__doc__, "variant_reference.csv", uses_torch=False)
    rows, failures, peer_bad = [], [], []
    skipped = 0
    for variant, params, targets in CONFIGS:
        for t in targets:
            for x in LOGITS + INF:
                v = exact_at(variant, params, x, t)
                if v is None:
                    skipped += 1
                    continue
                loss, grad, ls, gs = v
                # The analytic derivative against mpmath's numerical one (ASL's clipped
                # negatives are flat below the margin, with a kink at it).
                flat = variant == "asymmetric" and t == 0 and loss == 0
                # The reduced factor's kink at p_t = th (x = 0 at th = 1/2), which the
                # central difference straddles.
                if variant == "reduced" and math.isfinite(x):
                    pt = option_parts(mpf(x), mpf(t))[1]
                    flat = flat or abs(pt - mpf(params[2])) < mpf("1e-6")
                if math.isfinite(x) and not flat:
                    nd = mpmath.diff(lambda z: exact(variant, params, z, t, False)[0], mpf(x))
                    # (1e-45 of the loss: the step of mpmath.diff at 50 digits.)
                    if abs(nd - grad) > mpf("1e-30") * gs + mpf("1e-45") * abs(loss) + mpf("1e-300"):
                        failures.append(f"{variant} {params} x={x} t={t}: grad {grad} vs {nd}")
                row = [to_f64(loss) if math.isfinite(loss) else math.inf, to_f64(grad),
                       to_f64(ls) if math.isfinite(ls) else math.inf, to_f64(gs)]
                rows.append(fmt_params(variant, params) + [fmt(x), fmt(t)]
                            + [fmt(v) for v in row] + [variant])
                pl, pg = peer(variant, params, x, t)
                lo, go = rel_off(pl, row[0]), rel_off(pg, row[1])
                if lo > 1e-6 or go > 1e-6:
                    peer_bad.append((variant, params, x, t, pl, pg, row[0], row[1]))
    abort_if(failures)
    header = [
        "# Exact reference values of the focal family's variants, reduction='none'.",
        "# Generated by tools/gen_variant_reference.py; do not edit by hand.",
        f"# mpmath {mpmath.__version__} (mp.dps={DPS}), python {sys.version.split()[0]}.",
        "# focal_star (p1 gamma, p2 beta, p3 alpha): alpha_t * softplus(-(gamma*x*(2t-1)+beta)) / gamma",
        "# quality (p1 beta): BCE(x, q) * |q - sigmoid(x)|^beta",
        "# varifocal (p1 alpha, p2 gamma, p3 iou_weighted): BCE(x, q) * (q > 0 ? (iou ? q : 1)"
        " : alpha*sigmoid(x)^gamma)",
        "# asymmetric (p1 gamma_pos, p2 gamma_neg, p3 clip): t=1: -(1-p)^gp log p;"
        " t=0: -p_m^gn log(1-p_m), p_m = max(p - m, 0)",
        "# poly1 (p1 gamma, p2 alpha, p3 epsilon): alpha_t*(1-p_t)^gamma*BCE + epsilon*(1-p_t)^(gamma+1)",
        "# reduced (p1 gamma, p2 alpha, p3 threshold): alpha_t*BCE*(p_t < th ? 1 : ((1-p_t)/th)^gamma)",
        "# normalized (p1 gamma, p2 alpha): one element, alpha_t*(1-p_t)^gamma*BCE / max((1-p_t)^gamma, 1e-6)",
        "# grad = d loss / d logit; loss_scale, grad_scale: the magnitudes the f32 errors are"
        " relative to (see the script).",
        "# Exact values at 50 digits rounded to the nearest float64; logit +-inf: the limits.",
        f"# rows: {len(rows)} ({skipped} left out where a gradient's side of a jump is undetermined)",
        "p1,p2,p3,logit,target,loss,grad,loss_scale,grad_scale,variant",
    ]
    write_csv(args.output, header, rows)
    print(f"wrote {len(rows)} rows to {args.output} ({skipped} undetermined left out)",
          file=sys.stderr)
    print(f"peer float64 ports off by > 1e-6 relative (or NaN) on {len(peer_bad)} rows:",
          file=sys.stderr)
    seen = set()
    for variant, params, x, t, pl, pg, el, eg in peer_bad:
        key = (variant, params, x > 0, t)
        if key in seen:
            continue
        seen.add(key)
        print(f"  {variant} {params} x={x} t={t}: peer loss={pl!r} grad={pg!r}; "
              f"exact loss={el!r} grad={eg!r}", file=sys.stderr)


if __name__ == "__main__":
    main()
