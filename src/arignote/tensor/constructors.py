"""Theano's variable constructors: `scalar vector row col matrix tensor3..5`,
with dtype prefixes (`fvector`, `imatrix`, `dtensor3`, ...) and plurals
(`fscalars('x', 'y')`, `dmatrices`, ...). Without a prefix the dtype is
config.floatX (or the `dtype=` argument).
"""
from __future__ import annotations

from .type import TensorType, normalize_dtype

_PREFIXES = {"b": "int8", "w": "int16", "i": "int32", "l": "int64",
             "f": "float32", "d": "float64", "c": "complex64", "z": "complex128"}

# name -> broadcastable pattern
_KINDS = {
    "scalar": (),
    "vector": (False,),
    "row": (True, False),
    "col": (False, True),
    "matrix": (False, False),
    "tensor3": (False,) * 3,
    "tensor4": (False,) * 4,
    "tensor5": (False,) * 5,
    "tensor6": (False,) * 6,
    "tensor7": (False,) * 7,
}

__all__ = ["tensor", "TensorType"]


def _single(kind: str, fixed_dtype: str | None):
    pattern = _KINDS[kind]

    def make(name: str | None = None, dtype=None, shape=None):
        dt = fixed_dtype or normalize_dtype(dtype)
        if shape is not None:
            return TensorType(dt, shape=shape)(name)
        return TensorType(dt, pattern)(name)

    make.__name__ = (fixed_dtype and _prefix_of(fixed_dtype) or "") + kind
    make.__doc__ = (f"A symbolic {kind} ({len(pattern)}-d) of "
                    f"{fixed_dtype or 'config.floatX (or dtype=)'}: `{make.__name__}('x')`.")
    return make


def _plural(kind: str, fixed_dtype: str | None):
    single = _single(kind, fixed_dtype)

    def make(*names, dtype=None):
        if len(names) == 1 and isinstance(names[0], int):
            names = [None] * names[0]
        elif len(names) == 1 and isinstance(names[0], str) and "," in names[0]:
            names = [n.strip() for n in names[0].split(",")]
        vars_ = [single(n, dtype=dtype) if fixed_dtype is None else single(n) for n in names]
        return vars_[0] if len(vars_) == 1 else vars_

    plural = "matrices" if kind == "matrix" else kind + "s"
    make.__name__ = (fixed_dtype and _prefix_of(fixed_dtype) or "") + plural
    make.__doc__ = f"Several {kind}s at once: `{make.__name__}('a', 'b')` (or a count)."
    return make


def _prefix_of(dtype: str) -> str:
    return next(p for p, d in _PREFIXES.items() if d == dtype)


for _kind in _KINDS:
    globals()[_kind] = _single(_kind, None)
    _pl = "matrices" if _kind == "matrix" else _kind + "s"
    globals()[_pl] = _plural(_kind, None)
    __all__ += [_kind, _pl]
    for _p, _dt in _PREFIXES.items():
        globals()[_p + _kind] = _single(_kind, _dt)
        globals()[_p + _pl] = _plural(_kind, _dt)
        __all__ += [_p + _kind, _p + _pl]


def tensor(dtype=None, broadcastable=None, name: str | None = None, shape=None):
    """A symbolic tensor of any rank: `T.tensor('float32', (False, True))`.

    Theano's order is (dtype, broadcastable, name); PyTensor-style keyword
    `shape=(None, 1)` works too. A string as first argument is taken as the
    name when it is not a dtype.
    """
    if isinstance(dtype, str) and broadcastable is None and shape is None:
        try:
            normalize_dtype(dtype)
        except TypeError:
            raise TypeError(f"T.tensor needs a dtype and a broadcastable pattern (or shape=); "
                            f"got {dtype!r}") from None
    if broadcastable is None and shape is None:
        raise TypeError("T.tensor needs `broadcastable` (e.g. (False, False)) or `shape`")
    return TensorType(normalize_dtype(dtype), broadcastable, shape=shape)(name)

