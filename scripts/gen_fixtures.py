#!/usr/bin/env python3
"""Writes smelt's op fixtures: tests/fixtures/ops/<family>.json.

Every case stores its inputs (the Rust tests build tensors from this data, never from smelt's RNG) and
the outputs NumPy computes from them. Where NumPy and PyTorch disagree, the expected value follows
PyTorch and a comment says so. The tests never run Python: this script is run by hand when cases
change, and its output is committed.

    python3 scripts/gen_fixtures.py          # needs NumPy only; the output is deterministic

Format: one JSON object per family, one case per line:
    "name": {"inputs": [ARRAY, ...], "outputs": [ARRAY, ...], "rtol": r?, "atol": a?}
    ARRAY = {"dtype": "f32" | "f64" | "i64" | "i32" | "u8" | "bool", "shape": [...], "data": [...]}
Floats are written in their shortest round-trip form for their own dtype (an f32 literal must be parsed
as f32, not through f64); NaN and infinities use Python's NaN / Infinity / -Infinity tokens.

f32 results are computed in f64 from the f32 inputs and rounded to f32 once, which is what a correctly
rounded f32 kernel gives (and what smelt's reference interpreter does).
"""

import json
import math
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "ops")

DTYPES = {
    np.dtype(np.bool_): "bool",
    np.dtype(np.uint8): "u8",
    np.dtype(np.int32): "i32",
    np.dtype(np.int64): "i64",
    np.dtype(np.float32): "f32",
    np.dtype(np.float64): "f64",
}

f32, f64, i32, i64, u8, b8 = np.float32, np.float64, np.int32, np.int64, np.uint8, np.bool_
nan, inf = math.nan, math.inf


def encode(a):
    a = np.asarray(a)
    name = DTYPES[a.dtype]
    if name == "bool":
        data = [bool(v) for v in a.flat]
    elif name in ("u8", "i32", "i64"):
        data = [int(v) for v in a.flat]
    elif name == "f32":
        # str() of a NumPy f32 is its shortest round-trip form ("0.1", "nan", "-inf").
        data = [float(str(v)) for v in a.flat]
    else:
        data = [float(v) for v in a.flat]
    return {"dtype": name, "shape": list(a.shape), "data": data}


class Family:
    def __init__(self, name):
        self.name = name
        self.cases = {}

    def case(self, name, inputs, outputs, rtol=None, atol=None):
        assert name not in self.cases, name
        assert name.isidentifier(), name
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
        c = {"inputs": [encode(x) for x in inputs], "outputs": [encode(y) for y in outputs]}
        if rtol is not None:
            c["rtol"] = rtol
        if atol is not None:
            c["atol"] = atol
        self.cases[name] = c

    def write(self):
        os.makedirs(OUT, exist_ok=True)
        lines = [f"{json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}" for k, v in self.cases.items()]
        with open(os.path.join(OUT, self.name + ".json"), "w") as f:
            f.write("{\n" + ",\n".join(lines) + "\n}\n")


def in_dtype_of(x, y):
    """Rounds a float64 result back to the input's float dtype."""
    return np.asarray(y).astype(x.dtype) if x.dtype in (np.float32, np.float64) else np.asarray(y)


def wide(x):
    return np.asarray(x).astype(np.float64)


def rng_f32(rng, shape, scale=1.0, decimals=3):
    return np.round(rng.standard_normal(shape) * scale, decimals).astype(f32)


erf = np.vectorize(math.erf, otypes=[np.float64])


def gelu(x):
    return x * 0.5 * (1.0 + erf(x / math.sqrt(2.0)))


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def torch_remainder(a, b):
    """torch.remainder for floats: fmod, moved to the divisor's sign (exact, like PyTorch's kernel)."""
    m = np.fmod(a, b)
    fix = (m != 0) & ((b < 0) != (m < 0))
    return np.where(fix, m + b, m)


def torch_int_pow(base, exp):
    """PyTorch's integer pow: negative exponents give 0, except for bases 1 and -1 (NumPy raises)."""
    out = []
    for b, e in zip(base.flat, exp.flat):
        b, e = int(b), int(e)
        if e >= 0:
            out.append(b**e)
        elif b == 1:
            out.append(1)
        elif b == -1:
            out.append(-1 if (-e) % 2 else 1)
        else:
            out.append(0)
    return np.array(out, dtype=base.dtype).reshape(base.shape)


# ---------------------------------------------------------------------------------------------------
# elementwise: unary, binary, scalars, comparisons, where, clamp, casts
# ---------------------------------------------------------------------------------------------------


def elementwise():
    fam = Family("elementwise")
    rng = np.random.default_rng(1)
    # Special values on every unary op: halves (rounding), signed zeros, NaN, infinities.
    X = np.array(
        [[-2.5, -1.5, -0.5, -0.0, 0.0], [0.5, 1.5, 2.5, 3.7, -3.7], [nan, inf, -inf, 1e-3, 20.0]], dtype=f32
    )
    # Finite values (with one NaN) for functions where x = -inf gives inf * 0 (gelu, silu).
    XA = rng_f32(rng, (2, 3, 4), 2.0)
    XA[0, 0, 0], XA[0, 0, 1], XA[1, 2, 2], XA[1, 2, 3] = nan, 0.0, 6.0, -6.0
    XD = np.array([-3.25, -0.5, 0.0, 1e-8, 0.5, 2.5, 7.125, nan], dtype=f64)

    with np.errstate(all="ignore"):
        unary = {
            "neg": lambda x: -x,
            "exp": np.exp,
            "log": np.log,
            "sqrt": np.sqrt,
            "rsqrt": lambda x: 1.0 / np.sqrt(x),
            "sin": np.sin,
            "cos": np.cos,
            "tanh": np.tanh,
            "sigmoid": sigmoid,
            "relu": lambda x: np.maximum(x, 0.0),  # NaN stays NaN, as torch.relu
            "abs": np.abs,
            # np.sign(NaN) is NaN; PyTorch's CPU kernel gives 0 (pytorch#41245). smelt keeps NumPy's
            # NaN by design (codegen's UnaryOp::Sign); the fixture follows smelt and the report says so.
            "sign": np.sign,
            "floor": np.floor,
            "ceil": np.ceil,
            "round": np.round,  # half to even, as torch.round
            "trunc": np.trunc,
            "reciprocal": lambda x: 1.0 / x,
            "erf": erf,
            "square": lambda x: x * x,
        }
        for name, fn in unary.items():
            fam.case(f"{name}_f32", [X], in_dtype_of(X, fn(wide(X))))
        for name, fn in [("gelu", gelu), ("gelu_tanh", gelu_tanh), ("silu", lambda x: x * sigmoid(x))]:
            fam.case(f"{name}_f32", [XA], in_dtype_of(XA, fn(wide(XA))))
        for name, fn in [("sigmoid", sigmoid), ("tanh", np.tanh), ("exp", np.exp), ("round", np.round)]:
            fam.case(f"{name}_f32_3d", [XA], in_dtype_of(XA, fn(wide(XA))))
        for name, fn in [
            ("exp", np.exp),
            ("log", np.log),
            ("sin", np.sin),
            ("sqrt", np.sqrt),
            ("sigmoid", sigmoid),
            ("gelu", gelu),
            ("gelu_tanh", gelu_tanh),
            ("round", np.round),
            ("floor", np.floor),
            ("rsqrt", lambda x: 1.0 / np.sqrt(x)),
        ]:
            fam.case(f"{name}_f64", [XD], fn(XD))

    # Integer inputs: neg/abs/sign/relu/floor keep the dtype; float functions give the default f32.
    XI = np.array([-7, -1, 0, 1, 5, 100], dtype=i32)
    fam.case("neg_i32", [XI], -XI)
    fam.case("abs_i32", [XI], np.abs(XI))
    fam.case("sign_i32", [XI], np.sign(XI))
    fam.case("relu_i64", [XI.astype(i64)], np.maximum(XI.astype(i64), 0))
    fam.case("floor_i32", [XI], XI)
    fam.case("round_i64", [XI.astype(i64)], XI.astype(i64))
    with np.errstate(all="ignore"):
        fam.case("exp_i32", [XI], np.exp(wide(XI)).astype(f32))
        fam.case("sqrt_u8", [np.array([0, 4, 9, 200], dtype=u8)], np.sqrt(np.array([0, 4, 9, 200.0])).astype(f32))
        fam.case("sigmoid_i64", [XI.astype(i64)], sigmoid(wide(XI)).astype(f32))
        fam.case("gelu_i32", [XI], gelu(wide(XI)).astype(f32))
    fam.case("neg_u8_wraps", [np.array([0, 1, 200], dtype=u8)], np.array([0, 255, 56], dtype=u8))

    # ---- binary, f32, with broadcasting [3,4] op [4] and [3,1] ----
    A = np.round(rng.standard_normal((3, 4)) * 3, 2).astype(f32)
    A[0, 0], A[1, 0], A[1, 1], A[2, 3] = nan, 0.0, 0.0, -2.0
    B = np.array([0.0, nan, 2.0, -1.5], dtype=f32)
    C = np.array([[1.5], [-2.0], [0.25]], dtype=f32)
    with np.errstate(all="ignore"):
        binary = {
            "add": np.add,
            "sub": np.subtract,
            "mul": np.multiply,
            "div": np.divide,
            "pow": np.power,
            "maximum": np.maximum,  # NaN propagates, as torch.maximum
            "minimum": np.minimum,
            "remainder": torch_remainder,
        }
        for name, fn in binary.items():
            fam.case(f"{name}_f32_bcast_row", [A, B], fn(wide(A), wide(B)).astype(f32))
            fam.case(f"{name}_f32_bcast_col", [A, C], fn(wide(A), wide(C)).astype(f32))
        D = np.array([[1.0, -2.0, 3.0]], dtype=f64)
        E = np.array([[0.5], [-1.0]], dtype=f64)
        for name, fn in binary.items():
            fam.case(f"{name}_f64_outer", [D, E], fn(D, E))

        # Weak f64 scalars: an f32 tensor stays f32 (the scalar is rounded to f32 first).
        s = lambda v: wide(f32(v))  # noqa: E731
        fam.case("add_scalar", [A], (wide(A) + s(2.5)).astype(f32))
        fam.case("rsub_scalar", [A], (s(2.5) - wide(A)).astype(f32))
        fam.case("mul_scalar", [A], (wide(A) * s(0.1)).astype(f32))
        fam.case("div_scalar", [A], (wide(A) / s(4.0)).astype(f32))
        fam.case("rdiv_scalar", [A], (1.0 / wide(A)).astype(f32))
        fam.case("powf_2", [A], (wide(A) ** 2.0).astype(f32))
        fam.case("powf_half", [A], (wide(A) ** 0.5).astype(f32))
        fam.case("powf_neg1", [A], (wide(A) ** -1.0).astype(f32))
        fam.case("mul_scalar_f64", [D], D * 0.1)

    # ---- binary on integers ----
    AI = np.array([[7, -7, 5], [-5, 0, 3]], dtype=i32)
    BI = np.array([2, -2, 3], dtype=i32)
    fam.case("add_i32", [AI, BI], AI + BI)
    fam.case("sub_i64", [AI.astype(i64), BI.astype(i64)], AI.astype(i64) - BI.astype(i64))
    fam.case("mul_i32", [AI, BI], AI * BI)
    # int / int is true division into the default float.
    fam.case("div_i32_true", [AI, BI], (wide(AI) / wide(BI)).astype(f32))
    with np.errstate(all="ignore"):
        fam.case("div_i64_by_zero", [np.array([1, -1, 0], dtype=i64), np.zeros(3, dtype=i64)],
                 np.array([inf, -inf, nan], dtype=f32))
    # torch.remainder on integers: the sign of the divisor (Python's %), as np.remainder.
    fam.case("remainder_i32", [AI, BI], np.remainder(AI, BI))
    fam.case("maximum_i32", [AI, BI], np.maximum(AI, BI))
    fam.case("minimum_i64", [AI.astype(i64), BI.astype(i64)], np.minimum(AI, BI).astype(i64))
    PB = np.array([2, -2, 3, 1, -1, -1, 0, 5], dtype=i64)
    PE = np.array([3, 3, -1, -5, -3, -2, 0, 0], dtype=i64)
    fam.case("pow_i64", [PB, PE], torch_int_pow(PB, PE))
    fam.case("mul_u8_wraps", [np.array([200, 16, 3], dtype=u8), np.array([2, 16, 5], dtype=u8)],
             np.array([144, 0, 15], dtype=u8))
    fam.case("add_u8_wraps", [np.array([250, 1], dtype=u8), np.array([10, 1], dtype=u8)],
             np.array([4, 2], dtype=u8))

    # ---- mixed dtypes (torch.promote_types) ----
    FB = np.array([0.5, -1.25, 2.0], dtype=f32)
    fam.case("add_i32_f32", [AI, FB], (wide(AI) + wide(FB)).astype(f32))
    fam.case("mul_u8_i32", [np.array([200, 3, 7], dtype=u8), BI], np.array([400, -6, 21], dtype=i32))
    TF = np.array([True, False, True, False])
    TG = np.array([True, True, False, False])
    fam.case("add_bool_bool", [TF, TG], TF | TG)  # PyTorch: bool + bool is logical or
    fam.case("mul_bool_bool", [TF, TG], TF & TG)
    fam.case("add_bool_u8", [TF, np.array([1, 2, 3, 255], dtype=u8)], np.array([2, 2, 4, 255], dtype=u8))
    fam.case("add_i64_f64", [AI.astype(i64), D[0]], wide(AI) + D[0])
    fam.case("add_f32_f64", [A, B.astype(f64)], wide(A) + wide(B))
    fam.case("div_u8_i32", [np.array([7, 200], dtype=u8), np.array([2, -8], dtype=i32)],
             np.array([3.5, -25.0], dtype=f32))
    # A 0-d tensor of the same category does not widen a dimensioned tensor: f32[3,4] - f64[] is f32.
    fam.case("sub_f32_0d_f64", [A, np.array(2.5, dtype=f64)], (wide(A) - 2.5).astype(f32))
    # ...but one of a higher category decides the dtype: i32[2,3] * f64[] is f64.
    fam.case("mul_i32_0d_f64", [AI, np.array(0.1, dtype=f64)], wide(AI) * 0.1)
    fam.case("add_0d_0d", [np.array(3, dtype=i32), np.array(0.25, dtype=f64)], np.array(3.25, dtype=f64))
    # Weak scalars with integer or bool tensors give the default float.
    fam.case("add_i32_scalar", [AI], (wide(AI) + 2.5).astype(f32))
    fam.case("mul_i32_scalar_whole", [AI], (wide(AI) * 2.0).astype(f32))
    fam.case("add_bool_scalar", [TF], (wide(TF) + 1.0).astype(f32))
    fam.case("powf_i32", [AI], (wide(AI) ** 2.0).astype(f32))

    # ---- comparisons (NaN compares false, except !=) ----
    with np.errstate(all="ignore"):
        for name, fn in [("eq", np.equal), ("ne", np.not_equal), ("lt", np.less), ("le", np.less_equal),
                         ("gt", np.greater), ("ge", np.greater_equal)]:
            fam.case(f"{name}_f32", [A, B], fn(A, B))
            fam.case(f"{name}_f32_scalar", [A], fn(A, f32(0.0)))
        fam.case("eq_i32_f32", [AI, np.array([7.0, -7.5, 3.0], dtype=f32)],
                 np.equal(wide(AI), np.array([7.0, -7.5, 3.0])))
        fam.case("lt_u8_i64", [np.array([0, 5, 200], dtype=u8), np.array([[3], [300]], dtype=i64)],
                 np.array([0, 5, 200])[None, :] < np.array([[3], [300]]))
        fam.case("gt_bool", [TF, TG], TF > TG)
        fam.case("le_bool", [TF, TG], TF <= TG)

    # ---- where ----
    with np.errstate(all="ignore"):
        cond = A > 0
    fam.case("where_f32", [cond, A, B], np.where(cond, A, B))
    wc = np.array([[True], [False]])
    wa = np.array([[1.5, -2.5, 3.5]], dtype=f32)
    wb = np.array([[10, 20, 30], [40, 50, 60]], dtype=i64)
    fam.case("where_mixed", [wc, wa, wb], np.where(wc, wa, wb).astype(f32))
    c3 = np.array([True, False, True])
    fam.case("where_ints", [c3, np.array([1, 2, 3], dtype=i32), np.array([-1, -2, -3], dtype=i64)],
             np.array([1, -2, 3], dtype=i64))
    fam.case("where_0d_same_category", [c3, np.array(0.1, dtype=f64), FB],
             np.where(c3, f32(0.1), FB).astype(f32))
    fam.case("where_0d_float_over_int", [c3, np.array(0.1, dtype=f64), np.array([1, 2, 3], dtype=i32)],
             np.array([0.1, 2.0, 0.1], dtype=f64))
    fam.case("where_bool_branches", [c3, TF[:3], TG[:3]], np.where(c3, TF[:3], TG[:3]))

    # ---- clamp (NaN stays NaN; min > max gives max everywhere, as torch.clamp) ----
    fam.case("clamp_f32", [A], np.clip(A, f32(-1.0), f32(1.0)))
    fam.case("clamp_min_f32", [A], np.maximum(A, f32(0.5)))
    fam.case("clamp_max_f32", [A], np.minimum(A, f32(-0.5)))
    with np.errstate(all="ignore"):
        fam.case("clamp_min_above_max", [A], np.where(np.isnan(A), A, f32(-1.0)).astype(f32))
    fam.case("clamp_i32_to_f32", [AI], np.clip(wide(AI), -2.0, 2.5).astype(f32))

    # ---- casts: floats to integers truncate toward zero; anything nonzero (NaN too) is true ----
    CF = np.array([-2.7, -0.5, -0.0, 0.5, 2.7, 100.9, -100.9], dtype=f32)
    fam.case("cast_f32_i32", [CF], np.trunc(CF).astype(i32))
    fam.case("cast_f32_i64", [CF], np.trunc(CF).astype(i64))
    fam.case("cast_f64_i32", [CF.astype(f64)], np.trunc(CF).astype(i32))
    CU = np.array([0.5, 2.7, 255.9, 100.1, 0.0], dtype=f32)
    fam.case("cast_f32_u8", [CU], np.trunc(CU).astype(u8))
    CB = np.array([0.0, -0.0, 0.5, nan, inf, -2.0], dtype=f32)
    fam.case("cast_f32_bool", [CB], CB != 0)  # NaN != 0 is true, as torch's bool cast
    fam.case("cast_f32_f64", [A], wide(A))
    DF = np.array([0.1, 1.0 / 3.0, 1e40, -1e-50, 16777217.0], dtype=f64)
    with np.errstate(all="ignore"):
        fam.case("cast_f64_f32", [DF], DF.astype(f32))
    fam.case("cast_i64_i32_wraps", [np.array([2**32 + 5, -1, 2**31, -(2**31) - 1], dtype=i64)],
             np.array([5, -1, -(2**31), 2**31 - 1], dtype=i32))
    fam.case("cast_i32_u8_wraps", [np.array([300, -1, 255, 256], dtype=i32)], np.array([44, 255, 255, 0], dtype=u8))
    fam.case("cast_i32_f32_rounds", [np.array([16777217, -3, 2**30 + 1], dtype=i32)],
             np.array([16777216.0, -3.0, 2.0**30], dtype=f32))
    fam.case("cast_bool_f32", [TF], TF.astype(f32))
    fam.case("cast_bool_i64", [TF], TF.astype(i64))
    fam.case("cast_u8_i32", [np.array([0, 200, 255], dtype=u8)], np.array([0, 200, 255], dtype=i32))
    fam.case("cast_i64_bool", [np.array([0, -3, 7], dtype=i64)], np.array([False, True, True]))
    fam.case("cast_i64_f64", [np.array([2**53, -5], dtype=i64)], np.array([2.0**53, -5.0]))
    fam.write()


# ---------------------------------------------------------------------------------------------------
# reduce: sum/mean/max/min/prod/var/std, arg-reductions, softmax family
# ---------------------------------------------------------------------------------------------------


def first_extreme_index(x, axis, largest):
    """torch.argmax/argmin: the first NaN if there is one (NaN propagates), else the first extreme."""
    x = np.moveaxis(x, axis, -1)
    out = np.zeros(x.shape[:-1], dtype=i64)
    for idx in np.ndindex(*x.shape[:-1]):
        row = x[idx]
        nans = np.flatnonzero(np.isnan(row))
        if len(nans):
            out[idx] = nans[0]
        else:
            ext = row.max() if largest else row.min()
            out[idx] = np.flatnonzero(row == ext)[0]
    return out


def torch_logsumexp(x, axis):
    """torch.logsumexp: an infinite max is replaced by 0 before subtracting (so all -inf gives -inf)."""
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isinf(m), 0.0, m)
    return np.squeeze(np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m, axis=axis)


def softmax(x, axis):
    m = np.max(x, axis=axis, keepdims=True)
    e = np.exp(x - m)  # a row of only -inf gives NaN, as in PyTorch
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis):
    m = np.max(x, axis=axis, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


def reduce():
    fam = Family("reduce")
    rng = np.random.default_rng(2)
    R = rng_f32(rng, (3, 4, 5))
    Rw = wide(R)
    fam.case("sum_all", [R], np.sum(Rw).astype(f32))
    fam.case("sum_dim1", [R], np.sum(Rw, axis=1).astype(f32))
    fam.case("sum_dim_neg1_keep", [R], np.sum(Rw, axis=-1, keepdims=True).astype(f32))
    fam.case("sum_dims_0_2", [R], np.sum(Rw, axis=(0, 2)).astype(f32))
    fam.case("sum_dims_neg1_0_keep", [R], np.sum(Rw, axis=(0, 2), keepdims=True).astype(f32))
    fam.case("sum_dims_empty_is_all", [R], np.sum(Rw).astype(f32))
    fam.case("mean_all", [R], np.mean(Rw).astype(f32))
    fam.case("mean_dim_neg2_keep", [R], np.mean(Rw, axis=-2, keepdims=True).astype(f32))
    fam.case("mean_dims_0_1", [R], np.mean(Rw, axis=(0, 1)).astype(f32))
    fam.case("max_all", [R], np.max(R))
    fam.case("max_dim1", [R], np.max(R, axis=1))
    fam.case("min_all", [R], np.min(R))
    fam.case("min_dim0_keep", [R], np.min(R, axis=0, keepdims=True))
    fam.case("max_dims_neg1_neg3", [R], np.max(R, axis=(0, 2)))
    fam.case("prod_dim2", [R], np.prod(Rw, axis=2).astype(f32))
    P = (1.0 + np.round(rng.standard_normal((3, 4)) * 0.1, 3)).astype(f32)
    fam.case("prod_all", [P], np.prod(wide(P)).astype(f32))
    fam.case("prod_dim0_keep", [P], np.prod(wide(P), axis=0, keepdims=True).astype(f32))
    # var/std are unbiased (ddof=1), PyTorch's default; NumPy's default is ddof=0.
    fam.case("var_all", [R], np.var(Rw, ddof=1).astype(f32))
    fam.case("std_all", [R], np.std(Rw, ddof=1).astype(f32))
    fam.case("var_dim1", [R], np.var(Rw, axis=1, ddof=1).astype(f32))
    fam.case("std_dim_neg1_keep", [R], np.std(Rw, axis=-1, keepdims=True, ddof=1).astype(f32))
    fam.case("var_dims_0_2", [R], np.var(Rw, axis=(0, 2), ddof=1).astype(f32))
    V = np.array([[1.0, 2.0, 4.0, 7.0], [3.0, 3.0, 3.0, 3.0]], dtype=f64)
    fam.case("var_f64_dim1", [V], np.var(V, axis=1, ddof=1))
    fam.case("std_f64_dim0_keep", [V], np.std(V, axis=0, ddof=1, keepdims=True))
    # One element per group: the unbiased variance divides by zero, giving NaN (as PyTorch).
    fam.case("var_single_element_nan", [V[:1]], np.full(4, nan))
    fam.case("std_single_element_nan", [R[:1]], np.full((4, 5), nan, dtype=f32))

    # Integer reductions: sums and products accumulate in i64 (no u8 wrap-around).
    I = np.array([[200, 100, 7], [250, 3, 0]], dtype=u8)
    J = np.array([[5, -3, 2], [2**30, 2**30, 4]], dtype=i32)
    TB = np.array([[True, False, True], [True, True, True]])
    fam.case("sum_u8_to_i64", [I], np.sum(I.astype(i64)))
    fam.case("sum_dim0_u8_to_i64", [I], np.sum(I.astype(i64), axis=0))
    fam.case("sum_i32_no_overflow", [J], np.sum(J.astype(i64), axis=1))
    fam.case("sum_bool_counts", [TB], np.sum(TB.astype(i64), axis=1, keepdims=True))
    fam.case("prod_i32_to_i64", [J], np.prod(J.astype(i64), axis=0))
    fam.case("max_i32", [J], np.max(J))
    fam.case("min_dim1_u8", [I], np.min(I, axis=1))
    fam.case("max_bool", [TB], np.max(TB, axis=0))
    fam.case("min_bool_all", [TB], np.min(TB))

    # Arg-reductions: first index on ties, i64 result.
    T = np.array([[1, 3, 3, 0], [2, 2, 1, 2], [5, 5, 5, 5]], dtype=f32)
    fam.case("argmax_dim1_ties", [T], first_extreme_index(T, 1, True))
    fam.case("argmin_dim1_ties", [T], first_extreme_index(T, 1, False))
    fam.case("argmax_dim0_keep", [T], first_extreme_index(T, 0, True)[None, :])
    fam.case("argmin_dim_neg1_keep", [T], first_extreme_index(T, 1, False)[:, None])
    TI = T.astype(i32)
    fam.case("argmax_i32_ties", [TI], first_extreme_index(TI, 1, True))
    fam.case("argmin_i64_dim0", [T.astype(i64)], first_extreme_index(T, 0, False))
    fam.case("argmax_3d_dim1", [R], first_extreme_index(R, 1, True))

    # NaN: max/min propagate NaN, argmax/argmin return the first NaN's index (as PyTorch).
    N = np.array([[1, nan, 3, nan], [2, 1, 0, -1], [nan, 5, 5, 1]], dtype=f32)
    fam.case("max_dim1_nan", [N], np.max(N, axis=1))
    fam.case("min_dim0_nan", [N], np.min(N, axis=0))
    fam.case("max_all_nan", [N], np.max(N))
    fam.case("sum_dim1_nan", [N], np.sum(wide(N), axis=1).astype(f32))
    fam.case("argmax_dim1_nan", [N], first_extreme_index(N, 1, True))
    fam.case("argmin_dim1_nan", [N], first_extreme_index(N, 1, False))
    fam.case("argmax_dim0_nan", [N], first_extreme_index(N, 0, True))
    fam.case("argmin_dim0_nan", [N], first_extreme_index(N, 0, False))

    # Softmax family; one row of only -inf (NaN out, -inf for logsumexp) and one with some -inf.
    S = rng_f32(rng, (4, 5), 3.0)
    S[1, :] = -inf
    S[2, 1], S[2, 3] = -inf, -inf
    Sw = wide(S)
    with np.errstate(all="ignore"):
        fam.case("softmax_dim1", [S], softmax(Sw, 1).astype(f32))
        fam.case("softmax_dim0", [S], softmax(Sw, 0).astype(f32))
        fam.case("log_softmax_dim1", [S], log_softmax(Sw, 1).astype(f32))
        fam.case("log_softmax_dim0", [S], log_softmax(Sw, 0).astype(f32))
        fam.case("logsumexp_dim1", [S], torch_logsumexp(Sw, 1).astype(f32))
        fam.case("logsumexp_dim0", [S], torch_logsumexp(Sw, 0).astype(f32))
        LI = np.array([[inf, 1.0, 2.0], [-1.0, -2.0, 1000.0]], dtype=f32)
        fam.case("logsumexp_inf_and_large", [LI], torch_logsumexp(wide(LI), 1).astype(f32))
        S3 = rng_f32(rng, (2, 3, 4), 2.0)
        fam.case("softmax_3d_dim1", [S3], softmax(wide(S3), 1).astype(f32))
        fam.case("log_softmax_3d_neg1", [S3], log_softmax(wide(S3), -1).astype(f32))
        SD = wide(S3[0])
        fam.case("softmax_f64", [SD], softmax(SD, 1))
        fam.case("logsumexp_f64", [SD], torch_logsumexp(SD, 1))
        SI = np.array([[1, 2, 3], [0, 0, 0]], dtype=i64)
        fam.case("softmax_i64_to_f32", [SI], softmax(wide(SI), 1).astype(f32))

    # Zero-size dims: sum of nothing is 0, product 1, mean NaN; a zero-size result stays empty.
    Z = np.zeros((0, 3), dtype=f32)
    with np.errstate(all="ignore"):
        fam.case("sum_empty_dim0", [Z], np.zeros(3, dtype=f32))
        fam.case("prod_empty_dim0", [Z], np.ones(3, dtype=f32))
        fam.case("mean_empty_dim0", [Z], np.full(3, nan, dtype=f32))
        fam.case("sum_empty_all", [Z], np.array(0.0, dtype=f32))
        fam.case("prod_empty_all", [Z], np.array(1.0, dtype=f32))
        fam.case("mean_empty_all", [Z], np.array(nan, dtype=f32))
        fam.case("sum_empty_dim1", [Z], np.zeros(0, dtype=f32))
        fam.case("max_empty_dim1", [Z], np.zeros(0, dtype=f32))
        fam.case("argmax_empty_dim1", [Z], np.zeros(0, dtype=i64))
        fam.case("sum_empty_i32", [np.zeros((2, 0), dtype=i32)], np.zeros(2, dtype=i64))
    fam.write()


# ---------------------------------------------------------------------------------------------------
# movement: views, slicing, padding, joining and splitting, indexing
# ---------------------------------------------------------------------------------------------------


def torch_pad(x, pads, value):
    """torch.nn.functional.pad (constant): pairs from the last dim; negative widths crop."""
    for k in range(len(pads) // 2):
        axis = x.ndim - 1 - k
        before, after = pads[2 * k], pads[2 * k + 1]
        n = x.shape[axis]
        sl = [slice(None)] * x.ndim
        sl[axis] = slice(max(-before, 0), n - max(-after, 0))
        x = x[tuple(sl)]
        widths = [(0, 0)] * x.ndim
        widths[axis] = (max(before, 0), max(after, 0))
        x = np.pad(x, widths, constant_values=value)
    return x


def torch_chunk(x, chunks, axis):
    n = x.shape[axis]
    size = -(-n // chunks)
    return [np.take(x, range(s, min(s + size, n)), axis=axis) for s in range(0, n, size)]


def torch_split(x, size, axis):
    n = x.shape[axis]
    return [np.take(x, range(s, min(s + size, n)), axis=axis) for s in range(0, n, size)]


def torch_gather(x, axis, index):
    """torch.gather: the index may be smaller than the input in the other dims (NumPy would broadcast)."""
    sl = tuple(slice(0, index.shape[d]) if d != axis % x.ndim else slice(None) for d in range(x.ndim))
    return np.take_along_axis(x[sl], index, axis=axis)


def movement():
    fam = Family("movement")
    M = (np.arange(24, dtype=f32) * 0.5 - 3.0).reshape(2, 3, 4)
    fam.case("reshape_6_4", [M], M.reshape(6, 4))
    fam.case("reshape_infer_neg1_2", [M], M.reshape(-1, 2))
    fam.case("reshape_to_0d", [np.array([4.5], dtype=f32)], np.array(4.5, dtype=f32))
    fam.case("permute_2_0_1", [M], M.transpose(2, 0, 1))
    fam.case("permute_neg", [M], M.transpose(1, 2, 0))
    fam.case("transpose_0_2", [M], M.swapaxes(0, 2))
    fam.case("transpose_neg1_neg2", [M], M.swapaxes(-1, -2))
    fam.case("t_2d", [M[0]], M[0].T)
    fam.case("t_1d", [M[0, 0]], M[0, 0])
    fam.case("unsqueeze_1", [M], M[:, None])
    fam.case("unsqueeze_neg1", [M], M[..., None])
    S1 = M.reshape(2, 1, 12)[:, :, :3]
    fam.case("squeeze_1", [S1], S1.reshape(2, 3))
    fam.case("squeeze_non_one_is_noop", [S1], S1)
    SA = np.arange(6, dtype=i32).reshape(1, 2, 1, 3, 1)
    fam.case("squeeze_all", [SA], SA.reshape(2, 3))
    fam.case("flatten", [M], M.reshape(-1))
    fam.case("flatten_range_1_2", [M], M.reshape(2, 12))
    fam.case("flatten_range_0_neg2", [M], M.reshape(6, 4))
    E = np.array([[1.0], [2.0], [3.0]], dtype=f32)
    fam.case("expand_3x1_to_2x3x4", [E], np.broadcast_to(E, (2, 3, 4)))
    fam.case("broadcast_to_1d", [np.array([1, 2, 3], dtype=i64)], np.broadcast_to(np.array([1, 2, 3], dtype=i64), (2, 3)))
    fam.case("narrow_1_1_2", [M], M[:, 1:3])
    fam.case("narrow_neg1_3_1", [M], M[..., 3:4])
    # slice(dim, start, end, step): Python slice clamping, negative bounds count from the end.
    fam.case("slice_2_1_4_2", [M], M[:, :, 1:4:2])
    fam.case("slice_neg_bounds", [M], M[..., -3:-1])
    fam.case("slice_clamped", [M], M[-100:100])
    fam.case("slice_empty", [M], M[:, 5:2])
    fam.case("slice_step3_neg_start", [M], M[:, :, -4:4:3])
    fam.case("slice_big_step", [M], M[:, 0:3:5])
    fam.case("slice_neg_end", [M], M[:, :-1])
    fam.case("pad_last", [M[0]], torch_pad(M[0], [1, 2], 0.0))
    fam.case("pad_two_dims", [M[0]], torch_pad(M[0], [1, 0, 2, 1], -1.0))
    fam.case("pad_crop", [M[0]], torch_pad(M[0], [-1, 2], 9.0))
    fam.case("pad_crop_both", [M], torch_pad(M, [-1, -1, -1, 0], 0.0))
    fam.case("pad_i32", [SA.reshape(2, 3)], torch_pad(SA.reshape(2, 3), [0, 1, 1, 1], 7))
    fam.case("pad_3_dims", [M], torch_pad(M, [1, 1, 0, 1, 1, 0], 0.5))

    N = np.arange(10, 22, dtype=f32).reshape(2, 3, 2)
    fam.case("cat_dim0", [M, M[:1]], np.concatenate([M, M[:1]], axis=0))
    fam.case("cat_dim_neg1", [M, M[..., :2], M[..., :1]], np.concatenate([M, M[..., :2], M[..., :1]], axis=-1))
    fam.case("cat_mixed_dtypes", [M[..., :2].astype(i32), N], np.concatenate([M[..., :2].astype(i32), N], axis=0).astype(f32))
    fam.case("cat_with_empty", [M, np.zeros((2, 0, 4), dtype=f32)], M)
    fam.case("cat_three_1d", [np.array([1, 2], dtype=i64), np.array([3], dtype=i64), np.array([4, 5, 6], dtype=i64)],
             np.array([1, 2, 3, 4, 5, 6], dtype=i64))
    fam.case("stack_dim0", [M[0], M[1]], np.stack([M[0], M[1]], axis=0))
    fam.case("stack_dim_neg1", [M[0], M[1], M[0]], np.stack([M[0], M[1], M[0]], axis=-1))
    fam.case("stack_1d_dim1", [M[0, 0], M[1, 2]], np.stack([M[0, 0], M[1, 2]], axis=1))
    fam.case("split_2_dim2", [M], torch_split(M, 2, 2))
    fam.case("split_2_dim1_uneven", [M], torch_split(M, 2, 1))
    fam.case("split_big", [M], torch_split(M, 5, 0))
    fam.case("chunk_2_dim_neg1", [M], torch_chunk(M, 2, -1))
    fam.case("chunk_4_dim1_fewer", [M], torch_chunk(M, 4, 1))
    fam.case("chunk_3_of_5", [np.arange(5, dtype=f32)], torch_chunk(np.arange(5, dtype=f32), 3, 0))
    fam.case("chunk_4_of_6_gives_3", [np.arange(6, dtype=f32)], torch_chunk(np.arange(6, dtype=f32), 4, 0))

    IDX = np.array([2, 0, 2], dtype=i64)
    fam.case("index_select_dim1", [M, IDX], np.take(M, IDX, axis=1))
    fam.case("index_select_neg1_i32", [M, np.array([3, 1], dtype=i32)], np.take(M, [3, 1], axis=-1))
    fam.case("index_select_empty_index", [M, np.zeros(0, dtype=i64)], np.take(M, np.zeros(0, dtype=i64), axis=0))
    G1 = np.array([[[0, 2, 1, 1], [2, 2, 0, 1]], [[1, 0, 0, 2], [0, 1, 2, 0]]], dtype=i64)
    fam.case("gather_dim1", [M, G1], torch_gather(M, 1, G1))
    G0 = np.array([[[1, 0], [0, 1], [1, 1]]], dtype=i64)
    fam.case("gather_dim0_smaller", [M, G0], torch_gather(M, 0, G0))
    G2 = np.array([[[3], [0], [2]], [[1], [1], [0]]], dtype=i32)
    fam.case("gather_neg1_i32", [M, G2], torch_gather(M, -1, G2.astype(i64)))

    # Chains of views that are not contiguous in memory.
    chain = M.transpose(2, 0, 1).reshape(4, 6)[:, 1:6:2][:, None, :]
    fam.case("chain_permute_reshape_slice_expand", [M], np.broadcast_to(chain, (4, 2, 3)))
    chain2 = M.swapaxes(0, 1)[:, :, ::2] + np.array([100.0, 200.0], dtype=f32)
    fam.case("chain_transpose_slice_add_permute", [M], chain2.transpose(2, 0, 1).astype(f32))
    chain3 = torch_pad(M.transpose(1, 0, 2)[1:, :, 1:3], [1, 0, 0, 1], -5.0).reshape(2, 3, 3)
    fam.case("chain_slice_pad_reshape", [M], chain3)
    fam.case("chain_expand_then_slice", [E], np.broadcast_to(E, (3, 4))[1:, ::3])
    fam.write()


# ---------------------------------------------------------------------------------------------------
# linalg: matmul in all its torch.matmul forms, dot, mm
# ---------------------------------------------------------------------------------------------------


def linalg():
    fam = Family("linalg")
    rng = np.random.default_rng(4)

    def mat(*shape, dtype=f32):
        return rng_f32(rng, shape, 1.0, 2).astype(dtype)

    def mm(a, b):
        return (wide(a) @ wide(b)).astype(np.result_type(a, b))

    cases = [
        ("mm_2x3_3x4", mat(2, 3), mat(3, 4)),
        ("matmul_1d_1d", mat(5), mat(5)),
        ("matmul_1d_2d", mat(3), mat(3, 4)),
        ("matmul_2d_1d", mat(2, 3), mat(3)),
        ("matmul_batched", mat(2, 3, 4), mat(2, 4, 5)),
        ("matmul_batch_2d", mat(2, 3, 4), mat(4, 2)),
        ("matmul_2d_batch", mat(3, 4), mat(2, 4, 2)),
        ("matmul_broadcast_batch", mat(2, 1, 3, 4), mat(3, 4, 2)),
        ("matmul_1d_3d", mat(4), mat(2, 4, 3)),
        ("matmul_3d_1d", mat(2, 3, 4), mat(4)),
        ("matmul_k0", mat(2, 0), mat(0, 3)),
        ("matmul_m0", mat(0, 3), mat(3, 2)),
        ("matmul_f64", mat(3, 3, dtype=f64), mat(3, 2, dtype=f64)),
        ("matmul_1x1", mat(1, 1), mat(1, 1)),
        ("dot_f32", mat(7), mat(7)),
        ("dot_k0", mat(0), mat(0)),
        ("mm_f32", mat(4, 2), mat(2, 3)),
    ]
    for name, a, b in cases:
        fam.case(name, [a, b], mm(a, b))
    ai = rng.integers(-5, 6, (3, 4)).astype(i32)
    bi = rng.integers(-5, 6, (4, 2)).astype(i32)
    fam.case("matmul_i32", [ai, bi], ai @ bi)
    fam.case("matmul_i64_batched", [ai.astype(i64)[None], bi.astype(i64)], (ai.astype(i64) @ bi.astype(i64))[None])
    fam.write()


# ---------------------------------------------------------------------------------------------------
# creation: arange, linspace, eye, full (no inputs; the arguments are in the Rust test)
# ---------------------------------------------------------------------------------------------------


def linspace_torch(start, end, steps, dtype):
    """torch.linspace: the first half steps up from start, the second half back from end; steps == 1
    gives start. Integer results truncate toward zero."""
    if steps == 1:
        return np.array([start]).astype(dtype)
    step = (end - start) / (steps - 1)
    vals = [start + step * i if i < steps // 2 else end - step * (steps - 1 - i) for i in range(steps)]
    return np.trunc(vals).astype(dtype) if np.dtype(dtype).kind in "iu" else np.array(vals).astype(dtype)


def creation():
    fam = Family("creation")
    fam.case("arange_f32", [], np.arange(0.0, 10.0, 1.0).astype(f32))
    fam.case("arange_frac_f32", [], np.arange(0.0, 1.0, 0.1).astype(f32))
    fam.case("arange_neg_step_i64", [], np.arange(10, 0, -3, dtype=i64))
    fam.case("arange_neg_step_f64", [], np.arange(1.0, -1.0, -0.25))
    fam.case("arange_i32", [], np.arange(-3, 4, 2, dtype=i32))
    # Integer dtypes: every value start + i*step truncates toward zero (API.md). PyTorch instead truncates
    # start and step before stepping (and rejects |step| < 1 for int64); smelt's rule is NumPy's
    # np.arange(...).astype(int), which this case follows.
    fam.case("arange_trunc_i64", [], np.trunc(np.arange(-2.5, 2.5, 1.0)).astype(i64))
    fam.case("arange_empty", [], np.zeros(0, dtype=f32))
    fam.case("arange_one_past", [], np.arange(0.0, 1.0001, 0.5).astype(f32))
    fam.case("linspace_f32", [], linspace_torch(0.0, 1.0, 5, f32))
    fam.case("linspace_neg", [], linspace_torch(1.0, -1.0, 4, f32))
    fam.case("linspace_one_step_is_start", [], linspace_torch(3.0, 7.0, 1, f32))
    fam.case("linspace_zero_steps", [], np.zeros(0, dtype=f32))
    fam.case("linspace_i64", [], linspace_torch(0.0, 10.0, 4, i64))
    fam.case("linspace_f64", [], linspace_torch(0.0, 1.0, 7, f64))
    fam.case("linspace_odd_f32", [], linspace_torch(-5.0, 5.0, 11, f32))
    fam.case("eye_3_f32", [], np.eye(3, dtype=f32))
    fam.case("eye_0", [], np.eye(0, dtype=f32))
    fam.case("eye_2_i64", [], np.eye(2, dtype=i64))
    fam.case("eye_3_bool", [], np.eye(3, dtype=b8))
    fam.case("full_f32", [], np.full((2, 3), 2.5, dtype=f32))
    fam.case("full_i32_truncates", [], np.full(3, 2, dtype=i32))
    fam.case("full_bool", [], np.full(2, True))
    fam.case("full_0d", [], np.array(1.5, dtype=f64))
    fam.case("full_zero_size", [], np.zeros((2, 0), dtype=f32))
    fam.case("zeros_i64", [], np.zeros((2, 2), dtype=i64))
    fam.case("ones_u8", [], np.ones(3, dtype=u8))
    fam.case("zeros_like_i32", [np.array([[1, 2, 3]], dtype=i32)], np.zeros((1, 3), dtype=i32))
    fam.case("ones_like_f64", [np.array([[1.5], [2.5]], dtype=f64)], np.ones((2, 1), dtype=f64))
    fam.write()


if __name__ == "__main__":
    elementwise()
    reduce()
    movement()
    linalg()
    creation()
