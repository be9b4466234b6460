#!/usr/bin/env python3
"""Writes the 8x8 handwritten digits data set to data/digits/ as two NumPy .npy files.

The data ships inside the scikit-learn wheel (sklearn.datasets.load_digits reads a file bundled with the
package; nothing is downloaded at run time), so this needs only `pip install scikit-learn numpy`.

    images.npy  uint8 [1797, 8, 8]  pixel intensities 0..16
    labels.npy  int64 [1797]        the digit, 0..9

The output is deterministic: running the script again rewrites identical files (checked by the SHA-256
sums printed at the end, which data/digits/README.md records).

Source and licence: the test set of the UCI "Optical Recognition of Handwritten Digits" data set
(E. Alpaydin and C. Kaynak, 1998), https://doi.org/10.24432/C50P49, licensed CC BY 4.0.
"""

import hashlib
import pathlib

import numpy as np
from sklearn.datasets import load_digits

OUT = pathlib.Path(__file__).resolve().parent.parent / "data" / "digits"


def main() -> None:
    digits = load_digits()
    images = digits.images.astype(np.uint8)
    labels = digits.target.astype(np.int64)
    # load_digits gives float64 values that are exact small integers; check nothing was lost.
    assert np.array_equal(images, digits.images), "pixel values are not integers"
    assert images.shape == (1797, 8, 8) and images.max() <= 16
    assert labels.shape == (1797,) and set(np.unique(labels)) == set(range(10))
    OUT.mkdir(parents=True, exist_ok=True)
    for name, array in [("images.npy", images), ("labels.npy", labels)]:
        path = OUT / name
        np.save(path, array, allow_pickle=False)
        print(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  data/digits/{name}")


if __name__ == "__main__":
    main()
