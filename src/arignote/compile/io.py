"""In, Param and Out: how a compiled function's inputs and outputs behave."""
from __future__ import annotations

from typing import Any

from ..graph.basic import Variable

_NO_VALUE = object()


class In:
    """An input of a compiled function, with options.

    value: the default used when the caller omits this input (`In(y, value=1)`).
    name: the keyword to pass it by (defaults to the variable's name).
    update: an expression giving the input's next default (old-style state).
    mutable: the function may overwrite the array passed in (enables in-place ops).
    borrow: the function may keep a reference to the array passed in.
    strict: the value must already have exactly the input's type (no conversion).
    allow_downcast: convert values that lose precision instead of refusing them.
    """

    def __init__(self, variable: Variable, name: str | None = None, value: Any = _NO_VALUE,
                 update: Variable | None = None, mutable: bool | None = None, strict: bool = False,
                 allow_downcast: bool | None = None, autoname: bool = True, implicit: bool | None = None,
                 borrow: bool | None = None, shared: bool = False):
        if not isinstance(variable, Variable):
            raise TypeError(f"In() needs a symbolic variable, got {type(variable).__name__}")
        self.variable = variable
        self.name = name if name is not None else (variable.name if autoname else None)
        self.value = value
        self.update = update
        self.mutable = bool(mutable)
        self.borrow = bool(borrow) or self.mutable
        self.strict = strict
        self.allow_downcast = allow_downcast
        self.implicit = bool(implicit)
        self.shared = shared

    @property
    def has_default(self) -> bool:
        return self.value is not _NO_VALUE

    def __repr__(self):
        return f"In({self.variable})"


def Param(variable: Variable, default: Any = _NO_VALUE, name: str | None = None, mutable: bool = False,
          strict: bool = False, allow_downcast: bool | None = None, implicit: bool | None = None,
          borrow: bool | None = None) -> In:
    """Theano's older spelling of In: `Param(y, default=1)`."""
    return In(variable, name=name, value=default, mutable=mutable, strict=strict,
              allow_downcast=allow_downcast, implicit=implicit, borrow=borrow)


class Out:
    """An output of a compiled function; `borrow=True` lets it return internal storage."""

    def __init__(self, variable: Variable, borrow: bool = False):
        if not isinstance(variable, Variable):
            raise TypeError(f"Out() needs a symbolic variable, got {type(variable).__name__}")
        self.variable = variable
        self.borrow = borrow

    def __repr__(self):
        return f"Out({self.variable}, borrow={self.borrow})"
