"""What the peer-vector generators (gen_sigmoid_reference.py, gen_softmax_reference.py,
gen_variant_reference.py) share: the mpmath precision, correct rounding to float64, the CSV's
number format, the command line and torch's set-up (for the generators that run torch), the
abort on a failed cross-check, and writing the file.
"""

import argparse
import math
import os
import sys

from mpmath import mp
from mpmath.libmp import to_float

# The exact values are computed at this many significant digits.
DPS = 50
mp.dps = DPS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def to_f64(v):
    """Float64 nearest to an mpf (ties to even), rounding its full binary value.

    (A decimal string of 30 digits is not enough: e.g. 0.5 - 0.1 lies exactly
    halfway between two float64s.)"""
    return to_float(v._mpf_, rnd="n")


def fmt(v):
    """A CSV number: the shortest repr of the float64, 'inf' / '-inf'; never NaN."""
    if math.isnan(v):
        raise ValueError("refusing to write NaN")
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return repr(float(v))


def fmt_alpha(alpha):
    """The CSV's alpha column: 'none' or the number."""
    return "none" if alpha is None else fmt(alpha)


def start(doc, csv_name, uses_torch=True):
    """Parses the command line (`-o/--output`, default tests/data/<csv_name>) and, with
    `uses_torch`, sets torch to float64 on one thread; returns the arguments."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("-o", "--output", default=os.path.join(ROOT, "tests", "data", csv_name))
    args = ap.parse_args()
    if uses_torch:
        import torch

        torch.set_default_dtype(torch.float64)
        torch.set_num_threads(1)
    return args


def abort_if(failures):
    """Exits 1 before anything is written when a cross-check failed, listing the first 50."""
    if failures:
        print("ABORT: reference checks failed:", file=sys.stderr)
        for f in failures[:50]:
            print("  " + f, file=sys.stderr)
        print(f"  ({len(failures)} failures total)", file=sys.stderr)
        sys.exit(1)


def write_csv(path, header, rows):
    """Writes the comment and column-name lines of `header`, then a line per row of cells."""
    with open(path, "w", newline="\n") as fh:
        fh.write("\n".join(header) + "\n")
        for row in rows:
            fh.write(",".join(row) + "\n")

