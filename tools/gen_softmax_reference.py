#!/usr/bin/env python3
"""Generate tests/data/softmax_reference.csv: reference values for the
multi-class (softmax) focal loss of one sample and its gradient with respect
to every logit.

Exact values from mpmath (50 and 80 digits, which must round alike), with the
analytic gradient checked against mpmath.diff; torch float64 autograd is
checked against them where float64 is accurate, and its errors elsewhere are
recorded. The grid, the kinds of case and their order, the checks and the file
format: docs/reference-vectors.md.

Requirements: python3 (tested with 3.11);
    pip install torch==2.15.0 mpmath==1.3.0 numpy==2.4.6
(the default PyPI torch wheel is the CUDA build; only its CPU path is used).

Usage (from the repository root):
    python3 tools/gen_softmax_reference.py            # writes tests/data/softmax_reference.csv
    python3 tools/gen_softmax_reference.py -o out.csv # write elsewhere
    VERBOSE=1 python3 tools/gen_softmax_reference.py  # also list every inaccurate torch row
It prints a short accuracy summary (torch vs mpmath) to stderr (about 15 s).
"""

import math
import os
import random
import sys

import mpmath
import numpy as np
import torch
from mpmath import mp, mpf

from reference_common import DPS, abort_if, fmt, fmt_alpha, start, to_f64, write_csv

# The precision every exact value is computed at again, which must round to the same float64.
DPS_CHECK = 80

NUM_CLASSES = [2, 3, 10, 80]
GAMMAS = [0.0, 0.5, 1.0, 2.0, 2.5, 3.0]
SOFT_NUM_CLASSES = {3, 10}

EPS = 2.0 ** -52
# torch vs mpmath on the rows where torch is accurate: see tolerance().
RTOL = 1e-13
# Rows whose kind is checked against torch must have max_k p_k below this.
CHECK_MAX_P = 0.9999
# Analytic gradient vs mpmath.diff, relative to the gradient's term scale.
DIFF_RTOL = mpf("1e-30")
# Kinds of sample on which float64 torch is expected to be accurate.
CHECKED_KINDS = {
    "moderate", "lead60-other", "min30", "ties", "pm80-top", "pm80-bottom",
    "all-equal", "soft-dyadic", "soft-smooth", "soft-pm80",
}


def tolerance(max_p):
    return max(RTOL, 4.0 * EPS / (1.0 - max_p))


# --------------------------------------------------------------------------
# The grid
# --------------------------------------------------------------------------

def f32_exact(v):
    return float(np.float32(v)) == v


def q8(v):
    """Round to a multiple of 2^-8 (float32-exact for |v| < 2^15)."""
    return round(v * 256.0) / 256.0


def uniform(rng, n, lo, hi):
    """n logits uniform in [lo, hi), rounded to multiples of 2^-8."""
    return [q8(rng.uniform(lo, hi)) for _ in range(n)]


def leading(rng, C, ahead):
    """Logits uniform in [-3, 3] but one, `ahead` above the largest of the rest; and its class."""
    z = uniform(rng, C, -3.0, 3.0)
    lead = rng.randrange(C)
    z[lead] = max(z[:lead] + z[lead + 1:]) + ahead
    return z, lead


def pm80(rng, C):
    """A +-80 mix: classes j % 3 == 1 near -80, the others near +80 (C=2: +80, -80)."""
    return [(-80.0 if j % 3 == 1 else 80.0) + q8(rng.uniform(-1.0, 1.0)) for j in range(C)]


def alpha_vector(num_classes):
    return [round((0.25 + 0.5 * j / (num_classes - 1)) * 1024.0) / 1024.0
            for j in range(num_classes)]


def hard_samples(num_classes):
    """[(kind, logits, target)] for one C; the same for every gamma and alpha."""
    C = num_classes
    rng = random.Random(7919 * C + 1)

    def argmax(z):
        return max(range(len(z)), key=lambda j: (z[j], -j))

    def argmin(z):
        return min(range(len(z)), key=lambda j: (z[j], j))

    out = []
    # Moderate rows, targets: class 0, class C-1, the largest logit, the
    # smallest logit, a random class.
    for r in range(5):
        z = uniform(rng, C, -5.0, 5.0)
        t = [0, C - 1, argmax(z), argmin(z), rng.randrange(C)][r]
        out.append(("moderate", z, t))
    # One logit 60 ahead of the rest: target that class, then another one.
    z, lead = leading(rng, C, 60.0)
    out.append(("lead60-self", z, lead))
    out.append(("lead60-other", list(z), (lead + 1) % C))
    # One logit 20 ahead, target that class (torch visibly inaccurate).
    z, lead = leading(rng, C, 20.0)
    out.append(("lead20-self", z, lead))
    # Target 30 below the smallest of the rest.
    z = uniform(rng, C, -5.0, 5.0)
    t = rng.randrange(C)
    z[t] = min(z[:t] + z[t + 1:]) - 30.0
    out.append(("min30", z, t))
    # Two tied maximal logits, target the first.
    z = uniform(rng, C, -5.0, 5.0)
    i, k = sorted(rng.sample(range(C), 2))
    z[i] = z[k] = max(z) + 1.5
    out.append(("ties", z, i))
    z = pm80(rng, C)
    out.append(("pm80-top", z, argmax(z)))
    out.append(("pm80-bottom", list(z), argmin(z)))
    # All logits equal.
    out.append(("all-equal", [3.75] * C, C // 2))
    return out


def smoothing(num_classes, label):
    off = round(2.0 ** 24 * 0.1 / num_classes) / 2.0 ** 24
    y = [off] * num_classes
    y[label] = 1.0 - (num_classes - 1) * off
    return y


def soft_samples(num_classes):
    """[(kind, logits, y)] for C in {3, 10}."""
    C = num_classes
    rng = random.Random(104729 * C + 3)
    out = []
    if C == 3:
        dyadic = [0.25, 0.5, 0.25]
        sparse = [0.0, 0.75, 0.25]
    else:
        dyadic = [2.0 ** -(j + 1) for j in range(C - 1)] + [2.0 ** -(C - 1)]
        dyadic = dyadic[3:] + dyadic[:3]
        sparse = [0.0, 0.0, 0.5, 0.0, 0.25, 0.0, 0.0, 0.125, 0.0, 0.125]
    out.append(("soft-dyadic", uniform(rng, C, -5.0, 5.0), dyadic))
    out.append(("soft-smooth", uniform(rng, C, -5.0, 5.0), smoothing(C, rng.randrange(C))))
    z, lead = leading(rng, C, 60.0)
    out.append(("soft-smooth-lead60", z, smoothing(C, lead)))
    out.append(("soft-pm80", pm80(rng, C), sparse))
    return out


# --------------------------------------------------------------------------
# Exact values (mpmath)
# --------------------------------------------------------------------------

def probs(z):
    """(p, 1-p, log p) per class, without cancellation, at the current precision."""
    E = [mpmath.exp(mpf(x)) for x in z]       # mpmath has no overflow
    C = len(E)
    pre = [mpf(0)] * (C + 1)
    for j in range(C):
        pre[j + 1] = pre[j] + E[j]
    suf = [mpf(0)] * (C + 1)
    for j in range(C - 1, -1, -1):
        suf[j] = suf[j + 1] + E[j]
    p, q, logp = [], [], []
    for k in range(C):
        S = (pre[k] + suf[k + 1]) / E[k]      # sum_{j!=k} e^(z_j - z_k) > 0
        p.append(1 / (1 + S))
        q.append(S / (1 + S))
        logp.append(-mpmath.log1p(S))
    return p, q, logp


def weights(num_classes, target, alpha):
    """alpha_k * y_k per class (y one-hot for an int target)."""
    if isinstance(target, int):
        y = [mpf(1) if k == target else mpf(0) for k in range(num_classes)]
    else:
        y = [mpf(v) for v in target]
    a = [mpf(1)] * num_classes if alpha is None else [mpf(v) for v in alpha]
    return [ak * yk for ak, yk in zip(a, y)]


def focal_sum(w, q, logp, g):
    """-sum_k w_k * (1-p_k)^gamma * log p_k over the classes of non-zero weight."""
    return -mpmath.fsum(wk * qk ** g * lk for wk, qk, lk in zip(w, q, logp) if wk != 0)


def exact_loss(z, gamma, target, alpha):
    _, q, logp = probs(z)
    return focal_sum(weights(len(z), target, alpha), q, logp, mpf(gamma))


def exact_case(z, gamma, target, alpha):
    """(loss, grads, grad scales, max_k p_k, p, 1-p) at the current precision."""
    C = len(z)
    p, q, logp = probs(z)
    g = mpf(gamma)
    w = weights(C, target, alpha)
    loss = focal_sum(w, q, logp, g)
    gk = []
    for wk, pk, qk, lk in zip(w, p, q, logp):
        if wk == 0:
            gk.append(mpf(0))
            continue
        t1 = g * qk ** (g - 1) * pk * lk if gamma != 0 else mpf(0)
        gk.append(wk * (t1 - qk ** g))        # both terms <= 0: no cancellation
    tot = mpmath.fsum(gk)
    abs_tot = mpmath.fsum(abs(v) for v in gk)
    grads, scales = [], []
    for j in range(C):
        rest = tot - gk[j]                    # sum_{k!=j} g_k, all same sign
        grads.append(gk[j] * q[j] - p[j] * rest)
        scales.append(abs(gk[j]) * q[j] + p[j] * (abs_tot - abs(gk[j])))
    return loss, grads, scales, max(p), p, q


# --------------------------------------------------------------------------
# torch float64 + autograd, formula written out
# --------------------------------------------------------------------------

def torch_case(z, gamma, target, alpha):
    zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    logp = torch.log_softmax(zt, dim=0)
    if isinstance(target, int):
        lc = logp[target]
        pc = lc.exp()
        a = 1.0 if alpha is None else alpha[target]
        one_minus = 1.0 - pc
        loss = -a * one_minus ** gamma * lc
        one_minus_vals = [one_minus.item()]
    else:
        p = logp.exp()
        one_minus = 1.0 - p
        w = torch.tensor(target, dtype=torch.float64)
        if alpha is not None:
            w = w * torch.tensor(alpha, dtype=torch.float64)
        loss = -(w * one_minus ** gamma * logp).sum()
        one_minus_vals = one_minus.tolist()
    loss.backward()
    return loss.item(), zt.grad.tolist(), one_minus_vals


# --------------------------------------------------------------------------

def rel_err(approx, exact, scale):
    """|approx - exact| / scale, with NaN/inf as inf; exact, scale mpf."""
    if not math.isfinite(approx):
        return math.inf
    if scale == 0:
        return 0.0 if approx == 0.0 else math.inf
    return float(abs(mpf(approx) - exact) / scale)


def main():
    args = start(__doc__, "softmax_reference.csv")
    failures = []
    cases = []          # (C, gamma, alpha, target, logits, loss, grads)
    worst = {}          # kind -> (err, key) for checked kinds
    unchecked = []      # (err, key, torch (loss, grads, 1-p), exact (loss, grads, 1-p))
    nan_cases = []
    diff_checked = 0

    samples_of = {}
    for C in NUM_CLASSES:
        samples = hard_samples(C)
        if C in SOFT_NUM_CLASSES:
            samples += soft_samples(C)
        for kind, z, t in samples:
            assert len(z) == C
            for x in z:
                if not (f32_exact(x) and math.isfinite(x)):
                    failures.append(f"logit {x!r} not float32-exact (C={C}, {kind})")
            if not isinstance(t, int):
                if math.fsum(t) != 1.0 or sum(t) != 1.0:
                    failures.append(f"soft target does not sum to 1: {t}")
                if not all(f32_exact(v) and 0.0 <= v <= 1.0 for v in t):
                    failures.append(f"soft target not float32-exact in [0,1]: {t}")
        samples_of[C] = samples
        for a in alpha_vector(C):
            if not f32_exact(a):
                failures.append(f"alpha {a!r} not float32-exact")

    for C in NUM_CLASSES:
        for gamma in GAMMAS:
            for alpha in [None, alpha_vector(C)]:
                for kind, z, target in samples_of[C]:
                    hard = isinstance(target, int)
                    key = dict(C=C, gamma=gamma, alpha=None if alpha is None else "vector",
                               kind=kind, target=target if hard else "soft")
                    el, eg, scales, max_p, p, q = exact_case(z, gamma, target, alpha)
                    with mp.workdps(DPS_CHECK):
                        hl, hg, _, _, _, _ = exact_case(z, gamma, target, alpha)
                    el64, eg64 = to_f64(el), [to_f64(v) for v in eg]
                    if to_f64(hl) != el64 or [to_f64(v) for v in hg] != eg64:
                        failures.append(f"dps {DPS} and {DPS_CHECK} round differently {key}")
                    for v in [el64] + eg64:
                        if not math.isfinite(v) or (v != 0.0 and abs(v) < sys.float_info.min):
                            failures.append(f"non-finite or subnormal value {v!r} {key}")
                    # Gradient sums to 0 over the classes.
                    with mp.workdps(DPS_CHECK):
                        s = mpmath.fsum(hg)
                        if abs(s) > mpf(10) ** (10 - DPS_CHECK) * max(mpmath.fsum(scales), mpf("1e-300")):
                            failures.append(f"grad does not sum to 0 {key}: {mpmath.nstr(s, 5)}")

                    # Analytic gradient vs mpmath.diff.
                    if C <= 10:
                        coords = range(C)
                    else:
                        tc = target if hard else 0
                        coords = sorted({0, 1, C - 1, tc, z.index(max(z)), z.index(min(z))})
                    for j in coords:
                        if scales[j] == 0:
                            failures.append(f"zero gradient scale {key} class {j}")
                            continue
                        extra = max(0, int(mpmath.ceil(mpmath.log10(
                            max(abs(el), mpf("1e-300")) / scales[j]))))
                        with mp.workdps(DPS + 20 + extra):
                            def f(t, j=j):
                                zz = [mpf(x) for x in z]
                                zz[j] = t
                                return exact_loss(zz, gamma, target, alpha)
                            nd = mpmath.diff(f, mpf(z[j]))
                            bad = abs(nd - hg[j]) > DIFF_RTOL * scales[j]
                        diff_checked += 1
                        if bad:
                            failures.append(f"analytic vs mpmath.diff mismatch {key} class {j}: "
                                            f"{mpmath.nstr(hg[j], 20)} vs {mpmath.nstr(nd, 20)}")

                    # torch float64.
                    tl, tg, tq = torch_case(z, gamma, target, alpha)
                    err = max([rel_err(tl, el, abs(el))]
                              + [rel_err(a, e, s) for a, e, s in zip(tg, eg, scales)])
                    has_nan = math.isnan(tl) or any(math.isnan(v) for v in tg)
                    # The p whose 1 - p torch forms by subtraction: p_c for a hard
                    # target, every p_k for a soft one.
                    p_sub = float(p[target]) if hard else float(max_p)
                    if kind in CHECKED_KINDS and p_sub < CHECK_MAX_P:
                        if err > worst.get(kind, (-1.0, None))[0]:
                            worst[kind] = (err, key)
                        if not err <= tolerance(p_sub):
                            failures.append(f"torch disagrees with mpmath {key}: rel {err:.3g} "
                                            f"(tol {tolerance(p_sub):.3g}); loss {tl!r} vs "
                                            f"{el64!r}, grad {tg} vs {eg64}")
                    else:
                        eq = [to_f64(q[target])] if hard else [to_f64(v) for v in q]
                        unchecked.append((err, key, (tl, tg, tq), (el64, eg64, eq)))
                    if has_nan:
                        nan_cases.append(key)

                    cases.append((C, gamma, alpha, target, z, el64, eg64))

    abort_if(failures)

    # ---- summary of torch where it is not accurate -------------------------
    def short(v):
        return f"{v:.3g}" if math.isfinite(v) else repr(v)

    by_kind = {}
    for err, key, tv, ev in unchecked:
        k = key["kind"]
        by_kind.setdefault(k, []).append((err, key, tv, ev))
    extreme_lines = []
    for k in sorted(by_kind):
        rows = by_kind[k]
        n_nan = sum(1 for _, key, _, _ in rows if key in nan_cases)
        nan_gammas = sorted({key["gamma"] for _, key, _, _ in rows if key in nan_cases})
        n_zero = sum(1 for _, _, tv, ev in rows if tv[0] == 0.0 and ev[0] != 0.0)
        finite = [e for e, _, _, _ in rows if math.isfinite(e)]
        Cs = sorted({key["C"] for _, key, _, _ in rows})
        line = (f"#   {k} (C in {Cs}): {len(rows)} cases, max rel err "
                f"{short(max(finite)) if finite else 'n/a'}")
        if n_nan:
            line += (f" over the {len(finite)} without NaN; {n_nan} with NaN grads "
                     f"(gamma in {nan_gammas})")
        if n_zero:
            line += f"; torch loss 0 (rel err 1) in {n_zero}"
        extreme_lines.append(line)

    # Concrete examples for the comments (first matching case of each).
    def find(kind, C, gamma, alpha=None):
        for err, key, tv, ev in unchecked:
            if key["kind"] == kind and key["C"] == C and key["gamma"] == gamma and key["alpha"] == alpha:
                return key, tv, ev
        raise KeyError((kind, C, gamma))

    examples = []
    for kind, C, gamma in [("lead60-self", 10, 2.0), ("lead60-self", 10, 0.0),
                           ("lead60-self", 10, 0.5), ("lead20-self", 10, 2.0),
                           ("pm80-top", 2, 2.0), ("soft-smooth-lead60", 10, 0.5)]:
        key, (tl, tg, tq), (el, eg, eq) = find(kind, C, gamma)
        n = sum(1 for v in tg if math.isnan(v))
        if isinstance(key["target"], int):
            c = key["target"]
            examples.append(
                f"#   C={C} gamma={gamma:g} {kind} (target {c}): 1-p_c torch {tq[0]!r} exact {eq[0]!r}; "
                f"loss torch {tl!r} exact {el!r}; grad_c torch {tg[c]!r} exact {eg[c]!r}"
                + (f" ({n} of {C} grads NaN)" if n else ""))
        else:
            lead = max(range(C), key=lambda j: -eq[j])
            examples.append(
                f"#   C={C} gamma={gamma:g} {kind}: 1-p_lead torch {tq[lead]!r} exact {eq[lead]!r}; "
                f"loss torch {tl!r} exact {el!r}; {n} of {C} grads NaN in torch")

    n_soft = sum(1 for c in cases if not isinstance(c[3], int))
    n_lines = sum(c[0] for c in cases)
    checked_max = max(e for e, _ in worst.values())
    header = [
        "# Reference values for the multi-class (softmax) focal loss of one sample, and its gradient.",
        "# Generated by tools/gen_softmax_reference.py; do not edit by hand.",
        f"# torch {torch.__version__}, mpmath {mpmath.__version__} (mp.dps={DPS}, checked at {DPS_CHECK}), "
        f"numpy {np.__version__}, python {sys.version.split()[0]}",
        "# p = softmax(logits). Hard target c: loss = -alpha_c * (1-p_c)^gamma * log(p_c).",
        "# Soft target y (Keras CategoricalFocalCrossentropy, unclipped): loss = -sum_j alpha_j*y_j*(1-p_j)^gamma*log(p_j).",
        "# alpha 'none' means alpha_j = 1; otherwise the column holds alpha_j of this line's class j",
        "#   (per-class vector alpha_j = 0.25 + 0.5*j/(C-1) rounded to a multiple of 2^-10).",
        "#   kornia's focal_loss with a scalar alpha a weights class 0 by 1-a and every other class by a,",
        "#   i.e. the vector (1-a, a, ..., a) here; Keras' scalar alpha (default 0.25) weights every class.",
        "# grad = d loss / d logit_j for every class j; the grads of a case sum to 0 (before rounding).",
        "# One line per (case, class); loss is the case's loss repeated on each of its lines.",
        "# Values: exact (mpmath), correctly rounded to float64. Logits are multiples of 2^-8; soft targets",
        "#   are multiples of 2^-24 and each soft case's y sums to exactly 1 (label smoothing eps~0.1,",
        "#   labelled / other classes: "
        + ", ".join(f"C={C} {smoothing(C, 0)[0]!r} / {smoothing(C, 0)[1]!r}" for C in sorted(SOFT_NUM_CLASSES))
        + ").",
        "# Case order: C (2,3,10,80), then gamma, then alpha (none, vector), then the samples of that C:",
        "#   moderate x5, lead60-self, lead60-other, lead20-self, min30, ties, pm80-top, pm80-bottom,",
        "#   all-equal, and for C in {3,10} soft-dyadic, soft-smooth, soft-smooth-lead60, soft-pm80",
        "#   (see tools/gen_softmax_reference.py); the logits of a C are the same for every gamma, alpha.",
        "# torch float64 (log_softmax, p = exp(logp), (1-p)**gamma, autograd) agrees with these wherever",
        f"#   the p it subtracts from 1 (p_c hard, max p_k soft) is < {CHECK_MAX_P}: max rel err {checked_max:.2g}",
        "#   (loss; grad relative to sum_k |g_k|*|delta_jk - p_j|), per kind: "
        + ", ".join(f"{k} {worst[k][0]:.2g}" for k in sorted(worst)) + ".",
        "# torch float64 where it is NOT accurate (1 - exp(logp) cancels when some p -> 1):",
        *extreme_lines,
        "# e.g.",
        *examples,
        f"# cases: {len(cases)} ({len(cases) - n_soft} hard, {n_soft} soft); lines: {n_lines}",
        "case,num_classes,gamma,alpha,target,class,logit,soft_target,loss,grad",
    ]

    def lines():
        for case_id, (C, gamma, alpha, target, z, loss, grads) in enumerate(cases):
            hard = isinstance(target, int)
            for j in range(C):
                yield [str(case_id), str(C), fmt(gamma),
                       fmt_alpha(None if alpha is None else alpha[j]),
                       str(target) if hard else "soft", str(j), fmt(z[j]),
                       "" if hard else fmt(target[j]), fmt(loss), fmt(grads[j])]
    write_csv(args.output, header, lines())

    print(f"wrote {len(cases)} cases ({n_soft} soft), {n_lines} lines to {args.output}",
          file=sys.stderr)
    print(f"analytic gradient checked against mpmath.diff at {diff_checked} (case, class) pairs",
          file=sys.stderr)
    print("max rel err torch vs mpmath on checked rows, per kind:", file=sys.stderr)
    for k in sorted(worst):
        print(f"  {k}: {worst[k][0]:.3g} at {worst[k][1]}", file=sys.stderr)
    print("torch on the unchecked rows:", file=sys.stderr)
    for line in extreme_lines + examples:
        print("  " + line[4:], file=sys.stderr)
    print(f"torch NaN in {len(nan_cases)} cases", file=sys.stderr)
    if os.environ.get("VERBOSE"):
        for err, key, (tl, tg, tq), (el, eg, eq) in unchecked:
            print(f"  {key}: rel {short(err)}; torch loss={tl!r} grad={tg} 1-p={tq}; "
                  f"exact loss={el!r} grad={eg} 1-p={eq}", file=sys.stderr)
        for key in nan_cases:
            print(f"  NaN: {key}", file=sys.stderr)


if __name__ == "__main__":
    main()
