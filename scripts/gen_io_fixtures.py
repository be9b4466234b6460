#!/usr/bin/env python3
"""Writes the small NumPy-made files under tests/fixtures/io/ that tests/io_fixtures.rs reads.

The values are simple formulas (arange, a few special floats) that the Rust test recomputes on its own,
so the read path is tested against real NumPy output even on machines without Python.

Run from the repository root:  python3 scripts/gen_io_fixtures.py
"""

import json
import os
import struct

import numpy as np
from numpy.lib import format as npformat

OUT = os.path.join("tests", "fixtures", "io")


def save(name, arr):
    np.save(os.path.join(OUT, name), arr)


def save_version(name, arr, version):
    with open(os.path.join(OUT, name), "wb") as f:
        npformat.write_array(f, arr, version=version)


def main():
    os.makedirs(OUT, exist_ok=True)
    save("f32_2x3.npy", np.arange(6, dtype="<f4").reshape(2, 3))
    save("f64_specials.npy", np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, 1.5], dtype="<f8"))
    save("i64_fortran_3x2.npy", np.asfortranarray(np.arange(6, dtype="<i8").reshape(3, 2) - 3))
    save("i32_big_endian.npy", np.array([1, -2, 2**31 - 1, -(2**31)], dtype=">i4"))
    save("bool_0d.npy", np.array(True))
    save("u8_empty_0x4.npy", np.zeros((0, 4), dtype="u1"))
    save_version("f64_v2.npy", np.arange(4, dtype="<f8") / 4, (2, 0))
    save_version("f32_fortran_v3_2x3x2.npy", np.asfortranarray(np.arange(12, dtype="<f4").reshape(2, 3, 2)), (3, 0))
    a = np.arange(6, dtype="<i4").reshape(2, 3)
    b = np.array([True, False, True])
    np.savez(os.path.join(OUT, "stored.npz"), a=a, b=b)
    np.savez_compressed(os.path.join(OUT, "compressed.npz"), zeros=np.zeros(1000, dtype="<f8"), a=a)

    # A safetensors file written by hand from the format's description (no safetensors package).
    tensors = {
        "w": ("F32", [2, 2], np.array([1.0, 2.0, 3.0, 4.0], dtype="<f4").tobytes()),
        "idx": ("I64", [3], np.array([7, -1, 0], dtype="<i8").tobytes()),
        "mask": ("BOOL", [2], bytes([1, 0])),
    }
    header = {"__metadata__": {"format": "pt", "note": "fixture"}}
    offset = 0
    data = b""
    for name in ["idx", "w", "mask"]:  # by alignment, then name, as the safetensors crate writes
        dtype, shape, raw = tensors[name]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(os.path.join(OUT, "small.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


if __name__ == "__main__":
    main()
