"""Dtype rules for elementwise functions: each rule is defined once, here.

We follow NumPy 2's promotion (`numpy.result_type`) with one Theano rule kept
on purpose: a function whose result is inherently real-valued (exp, log, true
division, ...) applied to integers gives float32 for 8/16-bit integers and bool,
and float64 for 32/64-bit ones (NumPy would give float16 for int8, which loses
precision users of Theano never expected).
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


def is_discrete(dtype: str) -> bool:
    return np.dtype(dtype).kind in "biu"
