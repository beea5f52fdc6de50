#!/usr/bin/env python3
"""Side by side with what users run today: torchvision's ``sigmoid_focal_loss`` and kornia's
``focal_loss`` against this crate, on CPU, one thread, on the same data.

Optional and never run by CI or ``cargo xtask test``. docs/benchmarks.md ("Against PyTorch")
shows the table it printed.

Requirements: python3 (tested with 3.11) and cargo;
    pip install torch==2.15.0 torchvision==0.29.2 kornia==0.9.0 numpy==2.4.6
in a venv outside the repository, e.g. ``python3 -m venv /work/venv-torch`` (the default PyPI
torch wheel is the CUDA build; only its CPU path is used).

Usage (from anywhere):
    /work/venv-torch/bin/python tools/compare_torch.py               # both builds
    /work/venv-torch/bin/python tools/compare_torch.py --no-native   # the default build only

It writes the inputs as raw little-endian files to a temporary directory, builds and runs
``examples/compare_torch.rs`` on them in the default build and in a
``RUSTFLAGS="-C target-cpu=native"`` build (target dir ``$CARGO_TARGET_DIR/native``, default
``target/native``), times the PyTorch functions on the same tensors, and prints a Markdown
table (ns per element, per logit for softmax, and torch's time over ours) with the date, the
versions and the CPU, then how closely each loss and gradient agrees with torch's in float64.

Cases: sigmoid, N = 2^20 logits, targets 0.0 / 1.0 (1 % positives), γ 2, α 0.25,
``reduction='mean'``; softmax, C = 10 and 80, row-major (rows, C) logits with rows = 2^20 // C,
int64 class indices, γ 2, kornia's ``alpha=0.25`` (class 0 by 0.75, the others by 0.25),
``reduction='mean'`` (kornia divides by rows × C; the crate is given ``MeanOver(rows × C)``).
Logits: 3 × a standard normal, 2 % of the sigmoid ones replaced by a uniform draw on
[-30, 30); numpy's PCG64 with seed 2024. "Forward" is the loss alone (torch under
``torch.no_grad()``, the crate's ``loss``), "forward + backward" the loss and d loss / d logits
(torch's autograd ``loss.backward()``, the crate's ``loss_and_grad``). Each figure is the
fastest of the timed calls (on a shared machine, disturbances only add time).
"""

import argparse
import datetime
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torchvision
import kornia
from torchvision.ops import sigmoid_focal_loss
from kornia.losses import focal_loss

ROOT = Path(__file__).resolve().parent.parent
GAMMA = 2.0
ALPHA = 0.25
ELEMENTS = 1 << 20
CLASSES = (10, 80)
SEED = 2024


def make_data(directory):
    """Writes every case's inputs to `directory`; returns {case: (logits, targets, classes)}."""
    rng = np.random.Generator(np.random.PCG64(SEED))
    cases = {}
    x = (3.0 * rng.standard_normal(ELEMENTS)).astype(np.float32)
    wide = rng.random(ELEMENTS) < 0.02
    x[wide] = rng.uniform(-30.0, 30.0, int(wide.sum())).astype(np.float32)
    t = (rng.random(ELEMENTS) < 0.01).astype(np.float32)
    x.astype("<f4").tofile(directory / "sigmoid_logits.f32")
    t.astype("<f4").tofile(directory / "sigmoid_targets.f32")
    cases["sigmoid"] = (x, t, 1)
    for c in CLASSES:
        rows = ELEMENTS // c
        x = (3.0 * rng.standard_normal((rows, c))).astype(np.float32)
        t = rng.integers(0, c, rows, dtype=np.int64)
        x.astype("<f4").tofile(directory / f"softmax_c{c}_logits.f32")
        t.astype("<i8").tofile(directory / f"softmax_c{c}_targets.i64")
        cases[f"softmax_c{c}"] = (x, t, c)
    return cases


def torch_loss(case, logits, targets):
    """The PyTorch loss of `case` on tensors."""
    if case == "sigmoid":
        return sigmoid_focal_loss(logits, targets, alpha=ALPHA, gamma=GAMMA, reduction="mean")
    return focal_loss(logits, targets, alpha=ALPHA, gamma=GAMMA, reduction="mean")


def time_torch(case, x, t, calls):
    """Fastest ns per element of the forward and of forward + backward, interleaved."""
    logits, targets = torch.from_numpy(x), torch.from_numpy(t)
    best = {"forward": float("inf"), "backward": float("inf")}
    for i in range(calls + 3):  # the first three warm up
        start = time.perf_counter_ns()
        with torch.no_grad():
            torch_loss(case, logits, targets)
        forward = time.perf_counter_ns() - start
        leaf = logits.detach().requires_grad_(True)
        start = time.perf_counter_ns()
        torch_loss(case, leaf, targets).backward()
        backward = time.perf_counter_ns() - start
        if i >= 3:
            best["forward"] = min(best["forward"], forward / x.size)
            best["backward"] = min(best["backward"], backward / x.size)
    return best


def torch_results(case, x, t, dtype):
    """Torch's loss and gradient in `dtype`, as float64 numpy values."""
    leaf = torch.from_numpy(x).to(dtype).requires_grad_(True)
    targets = torch.from_numpy(t)
    if case == "sigmoid":
        targets = targets.to(dtype)
    loss = torch_loss(case, leaf, targets)
    loss.backward()
    return loss.item(), leaf.grad.to(torch.float64).numpy().reshape(-1)


def cargo_env(native):
    """Target dir and environment of the default or the native build."""
    base = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    env = dict(os.environ)
    env.pop("CARGO_ENCODED_RUSTFLAGS", None)
    if not native:
        return base, env, ""
    flags = (env.get("RUSTFLAGS", "") + " -C target-cpu=native").strip()
    env["RUSTFLAGS"] = flags
    return base / "native", env, f'RUSTFLAGS="{flags}" '


def run_ours(directory, native):
    """Runs the example in one build; returns the command and {(case, pass): (ns, loss)}."""
    target_dir, env, prefix = cargo_env(native)
    args = ["cargo", "run", "--release", "--example", "compare_torch"]
    args += ["--target-dir", str(target_dir), "--", str(directory), "--write-grad"]
    shown_dir = target_dir.relative_to(ROOT) if target_dir.is_relative_to(ROOT) else target_dir
    shown = args[:5] + ["--target-dir", str(shown_dir), "--", "DIR", "--write-grad"]
    shown = prefix + " ".join(shown)
    print(f"==> {shown}", file=sys.stderr, flush=True)
    out = subprocess.run(args, cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, text=True)
    results = {}
    for line in out.stdout.splitlines():
        fields = dict(f.split("=", 1) for f in line.split())
        key = (fields["case"], fields["pass"])
        results[key] = (float(fields["ns_per_element"]), float(fields["loss"]))
    return shown, results


def relative(a, b):
    """|a - b| / |b|."""
    return abs(a - b) / abs(b)


def grad_difference(g, reference):
    """The largest |g - reference| over the largest |reference|."""
    return float(np.max(np.abs(g - reference)) / np.max(np.abs(reference)))


def cpu_model():
    """The first `model name` of /proc/cpuinfo, else platform's processor."""
    try:
        text = Path("/proc/cpuinfo").read_text()
        match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
        if match:
            return match.group(1).strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def tool_version(*args):
    """The first line a command prints, or 'unknown'."""
    try:
        out = subprocess.run(args, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True)
        return out.stdout.splitlines()[0]
    except (OSError, subprocess.CalledProcessError, IndexError):
        return "unknown"


def label(case, x):
    """The table's name of a case."""
    if case == "sigmoid":
        return f"torchvision `sigmoid_focal_loss`, N = {x.size}"
    rows, c = x.shape
    return f"kornia `focal_loss`, C = {c} ({rows} × {c} logits)"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20, help="timed torch calls per case")
    parser.add_argument("--no-native", action="store_true", help="skip the native build")
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    builds = [False] if args.no_native else [False, True]
    with tempfile.TemporaryDirectory(prefix="compare-torch-") as tmp:
        directory = Path(tmp)
        cases = make_data(directory)
        ours, commands, grads = [], [], []
        for native in builds:
            command, results = run_ours(directory, native)
            commands.append(command)
            ours.append(results)
            grads.append({
                case: np.fromfile(directory / f"{case}_grad.f32", dtype="<f4").astype(np.float64)
                for case in cases
            })
        print("==> timing torch", file=sys.stderr, flush=True)
        theirs = {case: time_torch(case, x, t, args.calls) for case, (x, t, _) in cases.items()}
        reference = {case: torch_results(case, x, t, torch.float64) for case, (x, t, _) in cases.items()}
        torch32 = {case: torch_results(case, x, t, torch.float32) for case, (x, t, _) in cases.items()}

    names = ["default", "native"][: len(builds)]
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print("### PyTorch comparison: CPU, one thread\n")
    print(f"- Date: {now}")
    print(f"- CPU: {cpu_model()} ({os.cpu_count()} logical CPUs); torch's CPU capability: "
          f"{torch.backends.cpu.get_cpu_capability()}")
    print(f"- Python {platform.python_version()}, torch {torch.__version__}, torchvision "
          f"{torchvision.__version__}, kornia {kornia.__version__}, numpy {np.__version__}; "
          f"{tool_version('rustc', '-V')}")
    print("- Ours: " + "; ".join(f"{n}: `{c}`" for n, c in zip(names, commands)))
    print(f"- Figures: the fastest of {args.calls} torch calls, and of the crate's samples, in ns "
          "per element (softmax: per logit); torch / ours above 1: the crate is faster.\n")
    header = ["loss", "pass", "torch"] + [f"ours, {n}" for n in names]
    header += [f"torch / ours, {n}" for n in names]
    print("| " + " | ".join(header) + " |")
    print("|---|---|" + "--:|" * (len(header) - 2))
    for case, (x, _, _) in cases.items():
        for key, name in (("forward", "forward"), ("backward", "forward + backward")):
            torch_ns = theirs[case][key]
            mine = [results[(case, key)][0] for results in ours]
            cells = [label(case, x) if key == "forward" else "", name, f"{torch_ns:.2f}"]
            cells += [f"{ns:.2f}" for ns in mine]
            cells += [f"{torch_ns / ns:.1f}×" for ns in mine]
            print("| " + " | ".join(cells) + " |")

    print("\nAgreement with torch in float64 (loss: relative difference; gradient: largest "
          "difference over the largest magnitude):\n")
    header = ["loss", "loss: torch f32"] + [f"loss: ours, {n}" for n in names]
    header += ["grad: torch f32"] + [f"grad: ours, {n}" for n in names]
    print("| " + " | ".join(header) + " |")
    print("|---|" + "--:|" * (len(header) - 1))
    for case, (x, _, _) in cases.items():
        loss64, grad64 = reference[case]
        loss32, grad32 = torch32[case]
        cells = [label(case, x), f"{relative(loss32, loss64):.1e}"]
        cells += [f"{relative(results[(case, 'forward')][1], loss64):.1e}" for results in ours]
        cells += [f"{grad_difference(grad32, grad64):.1e}"]
        cells += [f"{grad_difference(g[case], grad64):.1e}" for g in grads]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
