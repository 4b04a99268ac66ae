"""Shared variables: symbolic variables with a value that persists across calls.

A shared variable's value lives in a one-element list (its storage cell)
that every compiled function using it reads and updates in place, so
functions that share a variable see each other's updates without copying.
"""
from __future__ import annotations

import copy
from typing import Any, Callable

from ..graph.basic import Variable
from ..graph.sourceline import here


class Container(list):
    """The one-element storage cell of a shared variable (`.value` reads and writes it)."""

    @property
    def value(self):
        return self[0]

    @value.setter
    def value(self, v):
        self[0] = v

    @property
    def storage(self):
        return self


class SharedVariable(Variable):
    """A variable with a value: `theano.shared(value)` makes one.

    `get_value(borrow=False)` returns a copy (the internal array with
    `borrow=True`); `set_value(value, borrow=False)` stores a copy (or `value`
    itself with `borrow=True`).
    """

    def __init__(self, name, type, value, strict: bool = False, allow_downcast: bool | None = None,
                 container=None):
        super().__init__(type, None, None, name)
        self.tag.implicit_ok = True
        if container is not None:
            self.container = container
        else:
            self.container = Container([type.filter(value, strict=strict, allow_downcast=allow_downcast)])
        self.default_update = None

    def get_value(self, borrow: bool = False, return_internal_type: bool = False) -> Any:
        value = self.container[0]
        return value if borrow else copy.deepcopy(value)

    def set_value(self, new_value: Any, borrow: bool = False) -> None:
        try:
            value = self.type.filter(new_value, allow_downcast=None)
        except TypeError as e:
            raise TypeError(f"set_value of shared variable {self.name or self}: {e}") from None
        if not borrow and value is new_value:
            value = copy.deepcopy(value)
        self.container[0] = value

    @property
    def value(self):  # very old Theano code reads `.value`
        return self.get_value(borrow=True)

    @value.setter
    def value(self, v):
        self.set_value(v)

    def zero(self, borrow: bool = False):
        self.set_value(self.container[0] * 0, borrow=True)

    def clone(self):
        cp = type(self)(self.name, self.type, None, container=self.container)
        cp.tag = copy.copy(self.tag)
        cp.default_update = self.default_update
        return cp

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_eval_cache", None)
        return state

    def __str__(self):
        return self.name if self.name is not None else f"<shared {self.type}>"


_CONSTRUCTORS: list[Callable] = []


def shared_constructor(ctor: Callable, remove: bool = False) -> Callable:
    """Register `ctor(value, name, strict, allow_downcast, **kw)` to make shared variables.

    Later registrations are tried first; a constructor raises TypeError to pass.
    """
    if remove:
        _CONSTRUCTORS.remove(ctor)
    else:
        _CONSTRUCTORS.insert(0, ctor)
    return ctor


def shared(value: Any, name: str | None = None, strict: bool = False, allow_downcast: bool | None = None,
           **kwargs) -> SharedVariable:
    """A shared variable holding `value` (an array, a scalar, a random generator...).

    >>> import numpy as np, arignote as th
    >>> W = th.shared(np.asarray([0.2, 0.7]), 'W')
    >>> W.get_value()
    array([0.2, 0.7])
    """
    if isinstance(value, Variable):
        raise TypeError(f"shared() takes a value, not the symbolic variable {value}. At {here()}")
    errors = []
    for ctor in _CONSTRUCTORS:
        try:
            var = ctor(value, name=name, strict=strict, allow_downcast=allow_downcast, **kwargs)
        except TypeError as e:
            errors.append(str(e))
            continue
        return var
    raise TypeError(f"shared(): no shared variable type can hold a value of type {type(value).__name__} "
                    f"({'; '.join(errors)}). At {here()}")


def generic_constructor(value, name=None, strict=False, allow_downcast=None, borrow=False, **kwargs):
    """The fallback: any Python object, as an opaque value."""
    from ..graph.generic import GenericType

    return SharedVariable(name, GenericType(), value if borrow else copy.deepcopy(value), strict=strict)


shared_constructor(generic_constructor)
