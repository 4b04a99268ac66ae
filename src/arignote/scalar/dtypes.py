"""Dtype rules for elementwise functions: each rule is defined once, here.

The output dtype of every elementwise function (the `dtype_rule` of its row
in `scalar.table`) is one of the functions below. The rules are:

1. **NumPy 2 promotion** (`numpy.result_type`, NEP 50) between tensors:
   `int8 + int32 -> int32`, `int32 + float32 -> float64`, `float32 + float64 -> float64`.

2. **Python scalars are weak** (NEP 50): a Python `int`/`float`/`bool` next to
   tensors takes the dtype the tensors give it. So `fvector * 0.1` is
   **float32**, `bvector + 1` is int8, `fvector ** 2` is float32.

   *This is a deliberate change from Theano.* Theano with `floatX=float64`
   turned `0.1` into a float64 constant and `fvector * 0.1` was float64; we
   chose NumPy 2's rule so that a graph computes in the dtype NumPy itself
   would use for the same expression, and so that float32 models stay float32.
   To get float64, say so: `T.cast(x, 'float64') * 0.1` or
   `x * np.float64(0.1)` (NumPy scalars and arrays are *strong*: `np.ones(3) + fvector`
   is float64). A Python float next to integers gives NumPy's default float
   (`bvector * 2.5` is float64).

   Where NumPy 2 would raise because the value does not fit (`int8_tensor + 1000`),
   we keep Theano's behaviour instead: the literal gets the smallest signed
   integer dtype holding it, which then takes part in promotion (int16 here).
   (That conversion lives in `tensor.elemwise._weak_constants`.)

3. **Real-valued functions of integers** (true division, exp, log, sqrt, the
   trigonometric and special functions, floor/ceil/round, ...) keep Theano's rule
   rather than NumPy's: bool, int8, uint8, int16 and uint16 give **float32**;
   int32, uint32, int64 and uint64 give **float64**. (NumPy gives float16 for
   8-bit integers, which loses precision users of Theano never expected.) The
   computation itself runs in that float dtype (`ScalarFn.cast_inputs`).

4. Comparisons and predicates give bool; bitwise/logical functions accept only
   booleans and integers; neg/sub/sgn reject booleans (as NumPy does) at build
   time rather than failing at run time.
"""
from __future__ import annotations

import numpy as np

_INT_TO_FLOAT = {
    "bool": "float32", "int8": "float32", "uint8": "float32", "int16": "float32", "uint16": "float32",
    "int32": "float64", "uint32": "float64", "int64": "float64", "uint64": "float64",
}


def upcast(*dtypes: str) -> str:
    """The NumPy result dtype of combining `dtypes` (Theano's `scalar.upcast`)."""
    return np.result_type(*dtypes).name


def upcast_no_bool(*dtypes: str) -> str:
    """neg, sub, sgn: NumPy has no boolean version (it suggests `~` and `^` instead)."""
    dt = upcast(*dtypes)
    if dt == "bool":
        raise TypeError("this function is not defined for booleans; use ~x (not) or a ^ b (xor), "
                        "or cast to an integer first")
    return dt


def upcast_out(*dtypes: str) -> str:
    return upcast(*dtypes)


def float_out(*dtypes: str) -> str:
    """The dtype of a real-valued result: floats keep theirs, integers upgrade."""
    dt = upcast(*dtypes)
    return _INT_TO_FLOAT.get(dt, dt)


def float_out_no_complex(*dtypes: str) -> str:
    dt = float_out(*dtypes)
    if dt.startswith("complex"):
        raise TypeError(f"this function is not defined for complex inputs ({dt})")
    return dt


def bool_out(*dtypes: str) -> str:
    return "bool"


def same_out(*dtypes: str) -> str:
    return upcast(*dtypes)


def real_out(*dtypes: str) -> str:
    """abs of complex is real; everything else keeps its dtype."""
    dt = upcast(*dtypes)
    return {"complex64": "float32", "complex128": "float64"}.get(dt, dt)


def discrete_only(*dtypes: str) -> str:
    dt = upcast(*dtypes)
    if np.dtype(dt).kind not in "biu":
        raise TypeError(f"this function needs integer or boolean inputs, got {', '.join(dtypes)}")
    return dt


def float_out_second(*dtypes: str) -> str:
    """switch(cond, a, b): the condition does not take part in the dtype."""
    return upcast(*dtypes[1:])


def float_out_of_second_discrete_first(*dtypes: str) -> str:
    """polygamma(n, x): the order n must be an integer; the result is real in x's precision."""
    if np.dtype(dtypes[0]).kind not in "biu":
        raise TypeError(f"the order must be an integer, got {dtypes[0]}")
    return float_out_no_complex(dtypes[1])


def is_discrete(dtype: str) -> bool:
    return np.dtype(dtype).kind in "biu"
