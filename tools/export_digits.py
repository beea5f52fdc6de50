#!/usr/bin/env python3
"""Exports scikit-learn's bundled `digits` data set to examples/data/digits.txt.

One line per image: the label, a colon, then the 64 pixels (8x8, row by row), each an
integer 0..16 written as one character of "0123456789abcdefg". Run once; the output is
committed so the example needs no Python:

    pip install scikit-learn && python3 tools/export_digits.py
"""

import pathlib

import sklearn
from sklearn.datasets import load_digits

ALPHABET = "0123456789abcdefg"
OUT = pathlib.Path(__file__).resolve().parent.parent / "examples" / "data" / "digits.txt"


def main() -> None:
    digits = load_digits()
    lines = [
        "# scikit-learn's bundled `digits` data set (sklearn.datasets.load_digits), exported by",
        "# tools/export_digits.py with scikit-learn " + sklearn.__version__ + ".",
        "# 1797 images of 8x8 pixels, values 0..16, from the UCI ML 'Optical Recognition of",
        "# Handwritten Digits' data set (E. Alpaydin, C. Kaynak, 1998), licensed CC BY 4.0:",
        "# https://archive.ics.uci.edu/dataset/80 (DOI 10.24432/C50P49).",
        "# Format: <label>:<64 pixels, row by row, each one character of 0-9a-g = 0..16>",
    ]
    for image, label in zip(digits.data.astype(int), digits.target):
        lines.append(f"{label}:" + "".join(ALPHABET[v] for v in image))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {len(digits.target)} images to {OUT}")


if __name__ == "__main__":
    main()
