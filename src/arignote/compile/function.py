"""function(): compile a graph into a callable; Function: what it returns.

Compiling: gather explicit inputs, the shared variables the graph reads and
the updates it makes; copy the graph into a FunctionGraph; rewrite it per the
Mode; hand it to the Mode's backend. Calling: check and store the arguments,
run, store updated shared values, return the outputs.
"""
from __future__ import annotations

import warnings
from collections import OrderedDict
import numpy as np

from ..graph.basic import Constant, Variable, ancestors, clone_replace
from ..graph.fg import FunctionGraph, MissingInputError
from ..graph.sourceline import format_line, here
from .fast_call import specialised_call
from .io import In, Out
from .mode import Mode, get_mode
from .sharedvalue import SharedVariable


class UnusedInputError(ValueError):
    """An explicit input of function() is not used by any output or update."""


def function(inputs=None, outputs=None, mode=None, updates=None, givens=None,
             no_default_updates=False, accept_inplace: bool = False, name: str | None = None,
             rebuild_strict: bool = True, allow_input_downcast: bool | None = None, profile=None,
             on_unused_input: str | None = None) -> "Function":
    """Compile `outputs` as a function of `inputs`.

    outputs: a variable (the call returns one value), a list (returns a list)
    or a dict (returns a dict). updates: (shared variable, new value
    expression) pairs, a dict or an OrderedDict, applied after each call.
    givens: {variable: replacement} substituted into the graph before compiling.

    >>> import arignote as th, arignote.tensor as T
    >>> x, y = T.dscalars('x', 'y')
    >>> f = th.function([x, y], x + y)
    >>> float(f(2, 3))
    5.0
    """
    spec = dict(inputs=inputs, outputs=outputs, mode=mode, updates=updates, givens=givens,
                no_default_updates=no_default_updates, name=name, allow_input_downcast=allow_input_downcast,
                profile=profile, on_unused_input=on_unused_input)
    return FunctionMaker(spec).create()


def _normalize_updates(updates) -> list:
    if updates is None:
        return []
    if isinstance(updates, dict):
        if not isinstance(updates, OrderedDict) and len(updates) > 1 and type(updates) is not dict:
            warnings.warn("updates given as an unordered mapping; their order is not defined", stacklevel=4)
        pairs = list(updates.items())
    else:
        try:
            pairs = [tuple(p) for p in updates]
        except TypeError:
            raise TypeError(f"updates must be a list of (shared variable, expression) pairs or a dict, got "
                            f"{type(updates).__name__}. At {here()}") from None
    for p in pairs:
        if len(p) != 2:
            raise TypeError(f"each update must be a (shared variable, expression) pair, got {p!r}. At {here()}")
    return pairs


class FunctionMaker:
    """Builds the FunctionGraph and the runner of a Function (`f.maker`)."""

    def __init__(self, spec: dict):
        from ..config import config

        self.spec = spec
        inputs = spec["inputs"] if spec["inputs"] is not None else []
        if isinstance(inputs, (Variable, In)):
            raise TypeError(f"function() takes a list of inputs, got a single {type(inputs).__name__}; "
                            f"write function([x], ...). At {here()}")
        self.inputs: list[In] = [i if isinstance(i, In) else In(i) for i in inputs]
        for pos, i in enumerate(self.inputs):
            if isinstance(i.variable, SharedVariable):
                raise TypeError(f"the shared variable {i.variable} cannot be an explicit input (position {pos}); "
                                "shared variables are implicit inputs. To feed a value instead, use "
                                f"givens={{{i.variable}: other_variable}}. At {here()}")
            if isinstance(i.variable, Constant):
                raise TypeError(f"the constant {i.variable} cannot be an input (position {pos}). At {here()}")
        seen = set()
        for i in self.inputs:
            if i.variable in seen:
                raise ValueError(f"input {i.variable} is given twice. At {here()}")
            seen.add(i.variable)
        self.mode: Mode = get_mode(spec["mode"])
        self.output_kind, self.output_keys, self.outputs = self._normalize_outputs(spec["outputs"])
        self.updates = self._check_updates(_normalize_updates(spec["updates"]))
        self.on_unused_input = spec["on_unused_input"] or "raise"
        if self.on_unused_input not in ("raise", "warn", "ignore"):
            raise ValueError(f"on_unused_input must be 'raise', 'warn' or 'ignore', got {self.on_unused_input!r}")
        self.allow_input_downcast = spec["allow_input_downcast"]
        self.name = spec["name"]
        profile = spec["profile"]
        if profile is None:
            profile = config.profile
        self.profile = None
        if profile:
            from .profiling import ProfileStats

            self.profile = profile if isinstance(profile, ProfileStats) else ProfileStats(self.name)
        self._build_graph(spec)

    # -- construction -----------------------------------------------------------------
    @staticmethod
    def _normalize_outputs(outputs):
        if outputs is None:
            return "list", None, []
        if isinstance(outputs, dict):
            keys = list(outputs)
            return "dict", keys, [_as_out(outputs[k]) for k in keys]
        if isinstance(outputs, (list, tuple)):
            return "list", None, [_as_out(o) for o in outputs]
        return "single", None, [_as_out(outputs)]

    @staticmethod
    def _check_updates(pairs):
        from ..tensor.shape_ops import specify_shape
        from ..tensor.type import TensorType
        from ..tensor.variable import as_tensor_variable

        checked = []
        seen = set()
        for var, expr in pairs:
            if not isinstance(var, SharedVariable):
                raise TypeError(f"updates can only change shared variables; {var} is not one. At {here()}")
            if var in seen:
                raise ValueError(f"the shared variable {var} is updated twice. At {here()}")
            seen.add(var)
            if isinstance(var.type, TensorType):
                expr = as_tensor_variable(expr)
                if expr.dtype != var.type.dtype or expr.ndim != var.type.ndim:
                    raise TypeError(
                        f"the update of shared variable '{var}' has type {expr.type}, but the variable has type "
                        f"{var.type}: an update must keep the dtype and number of dimensions. Cast it "
                        f"(expr.astype('{var.type.dtype}')) or create the shared variable with the dtype you "
                        f"want. At {here()}")
                if not var.type.is_super(expr.type):
                    expr = specify_shape(expr, var.type.shape)
            elif not isinstance(expr, Variable):
                raise TypeError(f"the update of {var} must be a symbolic expression. At {here()}")
            checked.append((var, expr))
        return checked

    def _build_graph(self, spec):
        explicit = [i.variable for i in self.inputs]
        out_vars = [o.variable for o in self.outputs]
        updates = list(self.updates)
        updated = {v for v, _ in updates}
        # default updates (random generators advance unless told not to)
        ndu = spec["no_default_updates"]
        for v in ancestors(out_vars + [e for _, e in updates]):
            if isinstance(v, SharedVariable) and v.default_update is not None and v not in updated:
                if ndu is True or (isinstance(ndu, (list, tuple)) and v in ndu):
                    continue
                updates.append((v, v.default_update))
                updated.add(v)
        in_updates = [(pos, i.update) for pos, i in enumerate(self.inputs) if i.update is not None]
        targets = out_vars + [e for _, e in updates] + [u for _, u in in_updates]
        givens = spec["givens"]
        if givens:
            pairs = list(givens.items()) if isinstance(givens, dict) else list(givens)
            for old, new in pairs:
                if not isinstance(old, Variable):
                    raise TypeError(f"givens keys must be symbolic variables, got {old!r}. At {here()}")
            from ..tensor.variable import as_tensor_variable

            pairs = [(old, new if isinstance(new, Variable) else as_tensor_variable(new)) for old, new in pairs]
            for old, new in pairs:
                if getattr(old.type, "dtype", None) != getattr(new.type, "dtype", None) or \
                        getattr(old.type, "ndim", None) != getattr(new.type, "ndim", None):
                    raise TypeError(f"givens: {old} ({old.type}) cannot be replaced by {new} ({new.type}). "
                                    f"At {here()}")
            targets = clone_replace(targets, dict(pairs))
        shared_used = [v for v in ancestors(targets) if isinstance(v, SharedVariable) and v not in explicit]
        implicit = list(dict.fromkeys(shared_used + [v for v, _ in updates]))
        self.implicit_shared = implicit
        try:
            self.fgraph = FunctionGraph(explicit + implicit, targets, clone=True)
        except MissingInputError as e:
            raise MissingInputError(f"{e}. At {here()}") from None
        n_out = len(out_vars)
        self.n_outputs = n_out
        self.update_positions = [(implicit.index(v), n_out + k) for k, (v, _) in enumerate(updates)]
        self.input_update_positions = [(pos, n_out + len(updates) + k) for k, (pos, _) in enumerate(in_updates)]
        self.all_updates = updates
        for pos, i in enumerate(self.inputs):
            fg_var = self.fgraph.inputs[pos]
            if not self.fgraph.clients.get(fg_var):
                msg = (f"input {pos} ({i.variable}) of function() is not used by any output or update; "
                       "pass on_unused_input='ignore' (or 'warn') to allow it")
                if self.on_unused_input == "raise":
                    raise UnusedInputError(f"{msg}. At {here()}")
                if self.on_unused_input == "warn":
                    warnings.warn(msg, stacklevel=4)
        self._rewrite()

    def _rewrite(self):
        """Apply the Mode's rewrites; in-place ones may overwrite only what the caller allowed."""
        import time

        from .. import rewriting
        from ..graph.destroy_handler import DestroyHandler
        from .graph_cache import CachedRewrite

        fg = self.fgraph
        n_explicit = len(self.inputs)
        mutable = [k for k, i in enumerate(self.inputs) if i.mutable]
        updated = {v for v, _ in self.all_updates}
        mutable += [n_explicit + k for k, v in enumerate(self.implicit_shared) if v in updated]
        t0 = time.perf_counter()
        slot = CachedRewrite(fg, self.mode, mutable)
        cached = slot.load()
        if cached is not None:  # rewritten before, by this process or another one
            self.fgraph = fg = cached
            fg.attach_feature(DestroyHandler([fg.inputs[k] for k in mutable]))
        else:
            fg.attach_feature(DestroyHandler([fg.inputs[k] for k in mutable]))
            rewriting.rewrite_graph(fg, self.mode)
            slot.store(fg)
        self.rewrite_time = time.perf_counter() - t0
        self.rewrites_cached = cached is not None

    def create(self) -> "Function":
        return Function(self)


def _as_out(o) -> Out:
    from ..tensor.variable import as_tensor_variable

    if isinstance(o, Out):
        return o
    if not isinstance(o, Variable):
        o = as_tensor_variable(o)
    return Out(o)


class Function:
    """A compiled function. Call it with the inputs' values (by position or name)."""

    def __init__(self, maker: FunctionMaker):
        self.maker = maker
        self.name = maker.name
        self.trust_input = False
        fg = maker.fgraph
        n_explicit = len(maker.inputs)
        self._n_explicit = n_explicit
        self._input_cells = [[None] for _ in range(n_explicit)] + [v.container for v in maker.implicit_shared]
        linker = maker.mode.make_linker(maker.profile)
        if hasattr(linker, "native_state"):  # tiered: the native run replaces the reference one when ready
            self._run, self._output_cells = linker.make_runner(fg, self._input_cells, self._use_native)
        else:
            self._run, self._output_cells = linker.make_runner(fg, self._input_cells)
        self._native_state = getattr(linker, "native_state", None)
        self.profile = maker.profile
        # per explicit input: its type, strictness and downcast policy
        self._types = [fg.inputs[k].type for k in range(n_explicit)]
        self._fast_ok = [getattr(t, "numpy_dtype", None) is not None and all(s is None for s in t.shape)
                         for t in self._types]
        # 0-d integer inputs: the range a Python int must fall in to convert exactly
        self._int_bounds = [(int(np.iinfo(t.numpy_dtype).min), int(np.iinfo(t.numpy_dtype).max))
                            if getattr(t, "ndim", None) == 0 and getattr(t, "numpy_dtype", np.dtype(object)).kind in "iu"
                            and not i.strict else None for t, i in zip(self._types, maker.inputs)]
        self._names = {i.name: k for k, i in enumerate(maker.inputs) if i.name}
        self._defaults = [i.value if i.has_default else None for i in maker.inputs]
        self._has_default = [i.has_default for i in maker.inputs]
        for k, i in enumerate(maker.inputs):
            if i.has_default:
                self._defaults[k] = self._filter(k, i.value)
        self._update_cells = [(self._input_cells[n_explicit + s], out) for s, out in maker.update_positions]
        self._copy_outputs = self._outputs_needing_copy()
        self.output_kind, self.output_keys = maker.output_kind, maker.output_keys
        self._n_out = maker.n_outputs
        # this function's own class, whose __call__ is unrolled for its inputs and outputs
        self.__class__ = type("Function", (Function,), {"__call__": specialised_call(self),
                                                         "__module__": Function.__module__})

    def _outputs_needing_copy(self) -> list[int]:
        """Outputs whose storage belongs to an input, a shared value, a constant, or another output.

        An update computed in place in its own shared variable's memory is the
        one exception: storing it back is exactly what should happen.
        """
        from ..graph.destroy_handler import view_root

        fg = self.maker.fgraph
        protected = set(fg.inputs)
        roots_seen = {}
        needs = []
        n_out = self.maker.n_outputs
        update_roots = {view_root(v) for v in fg.outputs[n_out:]}
        own_input = {n_out + k: fg.inputs[self._n_explicit + s] for k, (s, _) in
                     enumerate(self.maker.update_positions)}
        for k, var in enumerate(fg.outputs):
            root = view_root(var)
            borrow = k < n_out and self.maker.outputs[k].borrow
            in_place_update = own_input.get(k) is root and root not in roots_seen
            if (root in protected or isinstance(root, Constant) or root in roots_seen
                    or (k < n_out and root in update_roots)) and not borrow and not in_place_update:
                needs.append(k)
            roots_seen.setdefault(root, k)
        return needs

    # -- the native backend ----------------------------------------------------------------------
    def _use_native(self, run) -> None:
        self._run = run  # one attribute store: a call in progress finishes on the run it started with

    @property
    def native(self) -> bool:
        """True once calls run the native (Numba) program rather than the reference backend."""
        state = self._native_state
        return state is not None and state.ready and self._run is not None and state.done.is_set()

    def wait_native(self, timeout: float | None = None) -> bool:
        """Block until the native program is ready (or failed, or `timeout` seconds passed); return `native`."""
        state = self._native_state
        if state is None:
            return False
        state.start()  # compiling waits for a first call, unless asked for
        state.done.wait(timeout)
        return self.native

    # -- calling -------------------------------------------------------------------------------
    def _filter(self, k: int, value):
        t = self._types[k]
        i = self.maker.inputs[k]
        allow = i.allow_downcast if i.allow_downcast is not None else self.maker.allow_input_downcast
        try:
            return t.filter(value, strict=i.strict, allow_downcast=allow)
        except (TypeError, ValueError) as e:
            label = f"'{i.name}'" if i.name else str(i.variable)
            fname = f" '{self.name}'" if self.name else ""
            raise TypeError(
                f"bad argument to function{fname}: input {k} ({label}, {t}) {e}. "
                f"The input was created at {format_line(getattr(i.variable.tag, 'trace', None))}") from None

    def __call__(self, *args, **kwargs):
        return self._call_general(args, kwargs)

    def _call_general(self, args, kwargs):
        """Check and convert every argument, fill defaults, run, store updates (fast_call.py unrolls this)."""
        cells = self._input_cells
        n_args = len(args)
        if n_args > self._n_explicit:
            raise TypeError(f"function{' ' + repr(self.name) if self.name else ''} takes {self._n_explicit} "
                            f"argument{'s' if self._n_explicit != 1 else ''}, got {n_args}")
        if self.trust_input:
            for k, arg in enumerate(args):
                cells[k][0] = arg
        else:
            types, fast = self._types, self._fast_ok
            for k, arg in enumerate(args):
                t = types[k]
                if fast[k] and type(arg) is np.ndarray and arg.dtype == t.numpy_dtype and arg.ndim == t.ndim:
                    cells[k][0] = arg
                elif type(arg) is int and (bounds := self._int_bounds[k]) and bounds[0] <= arg <= bounds[1]:
                    cells[k][0] = np.asarray(arg, t.numpy_dtype)  # a loop count, an index: the common case
                else:
                    cells[k][0] = self._filter(k, arg)
        if kwargs or n_args < self._n_explicit:
            self._fill_remaining(n_args, kwargs)
        self._run()
        outs = [c[0] for c in self._output_cells]
        for k in self._copy_outputs:
            outs[k] = _copy(outs[k])
        for cell, k in self._update_cells:
            cell[0] = outs[k]
        for pos, k in self.maker.input_update_positions:
            self._defaults[pos] = outs[k]
        for k in range(self._n_explicit):  # do not keep the caller's arrays alive
            cells[k][0] = None
        if self.output_kind == "single":
            return outs[0]
        if self.output_kind == "dict":
            return dict(zip(self.output_keys, outs[: self._n_out]))
        return outs[: self._n_out]

    def _fill_remaining(self, n_args: int, kwargs: dict):
        given = set(range(n_args))
        for key, value in kwargs.items():
            k = self._names.get(key)
            if k is None:
                raise TypeError(f"function got an unexpected keyword argument {key!r}; its inputs are "
                                f"{', '.join(repr(n) for n in self._names) or 'unnamed'}")
            if k in given:
                raise TypeError(f"function got several values for input {key!r}")
            self._input_cells[k][0] = self._filter(k, value)
            given.add(k)
        for k in range(self._n_explicit):
            if k in given:
                continue
            if not self._has_default[k]:
                i = self.maker.inputs[k]
                raise TypeError(f"missing value for input {k} ({i.name or i.variable}) of function"
                                f"{' ' + repr(self.name) if self.name else ''}")
            self._input_cells[k][0] = self._defaults[k]

    def step_runner(self):
        """A bare callable for loops: `run(values) -> outputs`, values already of the right types.

        It skips argument checking, defaults, updates and keyword handling (a Scan
        step calls it thousands of times per call) but keeps the output copies
        that stop an output from aliasing an input.
        """
        cells = self._input_cells
        run = self._run
        out_cells = self._output_cells
        copies = self._copy_outputs
        n_out = self._n_out

        def step(values):
            for cell, value in zip(cells, values):
                cell[0] = value
            run()
            outs = [c[0] for c in out_cells[:n_out]]
            for k in copies:
                if k < n_out:
                    outs[k] = _copy(outs[k])
            return outs

        return step

    # -- conveniences -------------------------------------------------------------------------------
    @property
    def input_storage(self):
        return self._input_cells

    def copy(self, share_memory: bool = False, swap: dict | None = None, delete_updates: bool = False,
             name: str | None = None, profile=None) -> "Function":
        """A new Function computing the same thing.

        swap: {shared variable of this function: shared variable to use instead}.
        delete_updates: the copy makes no updates.
        """
        spec = dict(self.maker.spec)
        if swap:
            for old, new in swap.items():
                if not isinstance(old, SharedVariable) or not isinstance(new, SharedVariable):
                    raise TypeError("copy(swap=...) maps shared variables to shared variables")
                if old.type != new.type:
                    raise TypeError(f"copy(swap=...): {old} has type {old.type} but {new} has {new.type}")
            spec["outputs"] = _swap_outputs(spec["outputs"], swap)
            spec["updates"] = [(swap.get(v, v), clone_replace(e, swap)) for v, e in
                               _normalize_updates(spec["updates"])]
        if delete_updates:
            spec["updates"] = None
            spec["no_default_updates"] = True
        if name is not None:
            spec["name"] = name
        if profile is not None:
            spec["profile"] = profile
        return FunctionMaker(spec).create()

    def __reduce__(self):
        spec = dict(self.maker.spec)
        spec["mode"] = self.maker.mode.name if spec["mode"] is None or isinstance(spec["mode"], str) else spec["mode"]
        spec["profile"] = None
        return (_rebuild_function, (spec,))

    def __repr__(self):
        return f"<arignote Function {self.name or ''} of {len(self.maker.inputs)} inputs>"


def _swap_outputs(outputs, swap):
    if isinstance(outputs, dict):
        return {k: clone_replace(v.variable if isinstance(v, Out) else v, swap) for k, v in outputs.items()}
    if isinstance(outputs, (list, tuple)):
        return [clone_replace(v.variable if isinstance(v, Out) else v, swap) for v in outputs]
    if outputs is None:
        return None
    return clone_replace(outputs.variable if isinstance(outputs, Out) else outputs, swap)


def _rebuild_function(spec):
    return FunctionMaker(spec).create()


def _copy(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    import copy

    return copy.deepcopy(value)

