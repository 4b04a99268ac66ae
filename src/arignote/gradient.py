"""Automatic differentiation: grad, Lop, Rop, jacobian, hessian, verify_grad.

Reverse mode over the graph: starting from the cost (or `known_grads`), each
node's op maps its outputs' gradients to its inputs' (`L_op`); contributions
to one variable are summed. Rop is computed by the transpose trick (the
gradient of a linear function of a dummy cotangent), so every op with an
`L_op` supports it.
"""
from __future__ import annotations

import warnings
from collections import OrderedDict
from typing import Sequence

import numpy as np

from .graph.basic import Apply, Constant, Op, Type, Variable, ancestors, clone_replace, io_toposort
from .graph.sourceline import here


class DisconnectedType(Type):
    """The type of a gradient that is not there: the output does not depend on the input."""

    def filter(self, data, strict=False, allow_downcast=None):
        raise TypeError("a disconnected gradient has no value")

    def __eq__(self, other):
        return type(other) is type(self)

    def __hash__(self):
        return hash(DisconnectedType)

    def __str__(self):
        return "DisconnectedType"


class NullType(Type):
    """The type of a gradient that is undefined (e.g. w.r.t. a discrete index)."""

    def __init__(self, why_null: str = "(no explanation given)"):
        self.why_null = why_null

    def filter(self, data, strict=False, allow_downcast=None):
        raise TypeError(f"undefined gradient: {self.why_null}")

    def __eq__(self, other):
        return type(other) is type(self)

    def __hash__(self):
        return hash(NullType)

    def __str__(self):
        return "NullType"


class DisconnectedInputError(ValueError):
    """grad() was asked for the gradient w.r.t. a variable the cost does not depend on."""


class NullTypeGradError(TypeError):
    """A gradient needed on the way is undefined."""


class GradientError(Exception):
    """verify_grad found that an analytic gradient disagrees with finite differences."""

    def __init__(self, arg, err_pos, shape, val1, val2, abs_err, rel_err, abs_tol, rel_tol):
        super().__init__()
        self.arg, self.err_pos, self.shape = arg, err_pos, shape
        self.val1, self.val2 = val1, val2
        self.abs_err, self.rel_err, self.abs_tol, self.rel_tol = abs_err, rel_err, abs_tol, rel_tol

    def __str__(self):
        return (f"gradient of input {self.arg} disagrees with finite differences at flat position "
                f"{self.err_pos} of shape {self.shape}: analytic {self.val1}, numeric {self.val2} "
                f"(abs err {self.abs_err:.3g} > {self.abs_tol:.3g} and rel err {self.rel_err:.3g} > "
                f"{self.rel_tol:.3g})")


def grad_undefined(op, x_pos: int, x, comment: str = "") -> Variable:
    return NullType(f"the gradient of {op} w.r.t. its input {x_pos} is undefined. {comment}")()


def grad_not_implemented(op, x_pos: int, x, comment: str = "") -> Variable:
    return NullType(f"{op} does not implement the gradient w.r.t. its input {x_pos}. {comment}")()


def _format_as(like, results: list):
    """Theano's format_as: a single result for a single wrt, a tuple for a tuple, else a list."""
    if not isinstance(like, (list, tuple)):
        return results[0]
    return tuple(results) if isinstance(like, tuple) else list(results)


def _is_disconnected(v) -> bool:
    return v is None or isinstance(v.type, DisconnectedType)


def _float_ones_like(cost):
    from . import tensor as T

    dtype = cost.dtype if cost.dtype.startswith("float") else "floatX"
    return T.fill(cost, T.constant(1.0, dtype=dtype))


def grad(cost, wrt, consider_constant=None, disconnected_inputs: str = "raise", add_names: bool = True,
         known_grads: dict | None = None, return_disconnected: str = "zero", null_gradients: str = "raise"):
    """Symbolic gradient of the scalar `cost` w.r.t. `wrt` (a variable or a list of them).

    >>> import arignote.tensor as T
    >>> x = T.dscalar('x')
    >>> float(T.grad(x ** 2, x).eval({x: 3.0}))
    6.0
    """
    from . import tensor as T

    if disconnected_inputs not in ("raise", "warn", "ignore"):
        raise ValueError(f"disconnected_inputs must be 'raise', 'warn' or 'ignore', got {disconnected_inputs!r}")
    if return_disconnected.lower() not in ("zero", "none", "disconnected"):
        raise ValueError(f"return_disconnected must be 'zero', 'None' or 'Disconnected', got {return_disconnected!r}")
    single = not isinstance(wrt, (list, tuple))
    wrt_list = [wrt] if single else list(wrt)
    for i, w in enumerate(wrt_list):
        if not isinstance(w, Variable):
            raise TypeError(f"grad: wrt[{i}] is {type(w).__name__}, not a symbolic variable. At {here()}")
    seeds: dict = OrderedDict()
    if cost is not None:
        if not isinstance(cost, Variable):
            raise TypeError(f"grad: cost must be a symbolic variable, got {type(cost).__name__}. At {here()}")
        if getattr(cost.type, "ndim", 0) != 0:
            raise TypeError(f"grad: cost must be a scalar, but {cost} has {cost.ndim} dimensions; "
                            f"sum it or use T.jacobian / known_grads. At {here()}")
        if cost.dtype[0] in "biu":
            raise TypeError(f"grad: cost {cost} has the discrete dtype {cost.dtype}; it has no gradient. "
                            f"At {here()}")
        seeds[cost] = _float_ones_like(cost)
    for var, g in (known_grads or {}).items():
        g = g if isinstance(g, Variable) else T.as_tensor_variable(g)
        seeds[var] = seeds[var] + g if var in seeds else g
    if not seeds:
        raise ValueError("grad: give a cost or known_grads")
    blockers = set(consider_constant or [])
    accumulated = _backpropagate(seeds, wrt_list, blockers)

    results = []
    for w in wrt_list:
        terms = accumulated.get(w)
        if terms is None:
            message = (f"grad: the cost does not depend on {w} ({w.type}), created at {w.creation_line} "
                       "(or only through consider_constant / disconnected_grad). "
                       "Pass disconnected_inputs='ignore' to allow it.")
            if disconnected_inputs == "raise":
                raise DisconnectedInputError(f"{message} At {here()}")
            if disconnected_inputs == "warn":
                warnings.warn(message, stacklevel=2)
            mode = return_disconnected.lower()
            if mode == "zero":
                results.append(T.zeros_like(w) if w.dtype[0] not in "biu" else T.zeros_like(w, dtype="floatX"))
            elif mode == "none":
                results.append(None)
            else:
                results.append(DisconnectedType()())
            continue
        nulls = [t for t in terms if isinstance(t.type, NullType)]
        if nulls:
            if null_gradients == "raise":
                raise NullTypeGradError(f"grad: the gradient w.r.t. {w} is undefined: {nulls[0].type.why_null}")
            results.append(nulls[0])
            continue
        g = terms[0] if len(terms) == 1 else T.add(*terms)
        g = _match_type(g, w)
        if add_names and getattr(cost, "name", None) and w.name:
            g.name = f"(d{cost.name}/d{w.name})"
        results.append(g)
    return _format_as(wrt, results)


def _match_type(g, w):
    """Make a gradient look like its variable: same dtype and broadcast pattern."""
    from . import tensor as T

    if not hasattr(w, "dtype"):
        return g
    if w.dtype[0] not in "biu" and g.dtype != w.dtype:
        g = T.cast(g, w.dtype)
    if g.ndim != w.ndim:
        raise TypeError(f"internal error: the gradient w.r.t. {w} has {g.ndim} dimensions, expected {w.ndim}")
    if g.broadcastable != w.broadcastable and any(wb and not gb for wb, gb in zip(w.broadcastable, g.broadcastable)):
        g = T.patternbroadcast(g, w.broadcastable)
    return g


def _backpropagate(seeds: dict, wrt: Sequence[Variable], blockers: set) -> dict:
    """Return {variable: [gradient terms]} for every variable between wrt and the seeds."""
    sources = list(seeds)
    # variables that depend on some wrt (only their gradients are needed)
    wrt_ids = {id(w) for w in wrt}
    # stop at the blockers (consider_constant) only: a wrt variable may itself depend on another
    # (grad(c, [y, x]) with y = f(x) gives dc/dx through y as well). A blocker still receives its
    # own gradient (as in Theano); nothing flows past it, since its owner is not visited.
    nodes = io_toposort(list(blockers), sources)
    relevant = set(wrt_ids)
    for node in nodes:
        if any(id(i) in relevant for i in node.inputs):
            relevant.update(id(o) for o in node.outputs)
    grads: dict = {}
    for var, g in seeds.items():
        grads.setdefault(var, []).append(g)
    for node in reversed(nodes):
        if not any(o in grads for o in node.outputs):
            continue
        if not any(id(i) in relevant for i in node.inputs):
            continue
        out_grads = []
        for o in node.outputs:
            terms = grads.get(o)
            if not terms:
                out_grads.append(DisconnectedType()())
            else:
                out_grads.append(terms[0] if len(terms) == 1 else _sum_terms(terms))
        if any(isinstance(g.type, NullType) for g in out_grads):
            null = next(g for g in out_grads if isinstance(g.type, NullType))
            in_grads = [null] * len(node.inputs)
        else:
            in_grads = node.op.L_op(node.inputs, node.outputs, out_grads)
        if len(in_grads) != len(node.inputs):
            raise ValueError(f"{node.op}.L_op returned {len(in_grads)} gradients for {len(node.inputs)} inputs")
        for inp, g in zip(node.inputs, in_grads):
            if id(inp) not in relevant or _is_disconnected(g):
                continue
            if isinstance(inp, Constant):
                continue
            grads.setdefault(inp, []).append(g)
    return grads


def _sum_terms(terms):
    from . import tensor as T

    return T.add(*terms)


def Lop(f, wrt, eval_points, consider_constant=None, disconnected_inputs: str = "raise"):
    """Vector-Jacobian product: `eval_points`ᵀ · ∂f/∂wrt (f and eval_points may be lists)."""
    fs = f if isinstance(f, (list, tuple)) else [f]
    ev = eval_points if isinstance(eval_points, (list, tuple)) else [eval_points]
    if len(fs) != len(ev):
        raise ValueError(f"Lop: {len(fs)} outputs but {len(ev)} eval_points")
    known = OrderedDict((fi, ei) for fi, ei in zip(fs, ev))
    return grad(None, wrt, consider_constant=consider_constant, known_grads=known,
                disconnected_inputs=disconnected_inputs)


def Rop(f, wrt, eval_points, disconnected_outputs: str = "raise", return_disconnected: str = "zero"):
    """Jacobian-vector product: ∂f/∂wrt · `eval_points` (f, wrt and eval_points may be lists).

    Computed as the gradient, w.r.t. a dummy cotangent u, of uᵀ·J·v: exact,
    and available for every differentiable op. An output of `f` that depends on
    none of `wrt` raises DisconnectedInputError (`disconnected_outputs='raise'`),
    warns ('warn') or not ('ignore'); its result is then zeros
    (`return_disconnected='zero'`), None ('None') or a DisconnectedType variable.
    """
    from . import tensor as T

    if disconnected_outputs not in ("raise", "warn", "ignore"):
        raise ValueError(f"disconnected_outputs must be 'raise', 'warn' or 'ignore', got {disconnected_outputs!r}")
    if return_disconnected.lower() not in ("zero", "none", "disconnected"):
        raise ValueError(f"return_disconnected must be 'zero', 'None' or 'Disconnected', got {return_disconnected!r}")
    fs = list(f) if isinstance(f, (list, tuple)) else [f]
    ws = wrt if isinstance(wrt, (list, tuple)) else [wrt]
    vs = eval_points if isinstance(eval_points, (list, tuple)) else [eval_points]
    if len(ws) != len(vs):
        raise ValueError(f"Rop: {len(ws)} wrt variables but {len(vs)} eval_points")
    vs = [T.as_tensor_variable(v) for v in vs]
    for w, v in zip(ws, vs):
        if getattr(w, "ndim", None) != v.ndim:
            raise ValueError(f"Rop: eval point {v} has {v.ndim} dimensions, {w} has {w.ndim}. At {here()}")
    wrt_ids = {id(w) for w in ws}
    connected = [any(id(a) in wrt_ids for a in ancestors([fi])) for fi in fs]
    for fi, c in zip(fs, connected):
        if c:
            continue
        message = f"Rop: the output {fi} does not depend on any of {', '.join(map(str, ws))}"
        if disconnected_outputs == "raise":
            raise DisconnectedInputError(f"{message}. At {here()}")
        if disconnected_outputs == "warn":
            warnings.warn(message, stacklevel=2)
    live = [fi for fi, c in zip(fs, connected) if c]
    jvps = []
    if live:
        dummies = [fi.type() for fi in live]
        vjps = Lop(live, list(ws), dummies, disconnected_inputs="ignore")
        inner = T.add(*[T.sum(j * v) for j, v in zip(vjps, vs)])
        jvps = grad(inner, dummies, disconnected_inputs="ignore")
        # the result is linear in the dummies' *values*: substitute zeros for any leftover use
        jvps = clone_replace(jvps, {d: T.zeros_like(fi) for d, fi in zip(dummies, live)})
    it = iter(jvps)
    mode = return_disconnected.lower()
    results = []
    for fi, c in zip(fs, connected):
        if c:
            results.append(next(it))
        elif mode == "zero":
            results.append(T.zeros_like(fi))
        elif mode == "none":
            results.append(None)
        else:
            results.append(DisconnectedType()())
    return _format_as(f, results)


def jacobian(expression, wrt, consider_constant=None, disconnected_inputs: str = "raise"):
    """The Jacobian of the vector `expression` w.r.t. `wrt` (row i: gradient of expression[i]).

    A scalar `expression` gives its gradient (as Theano). The result for a wrt
    of shape S has shape (len(expression),) + S.
    """
    from . import tensor as T
    from .scan.map_index import map_over_index

    expression = T.as_tensor_variable(expression)
    if expression.ndim > 1:
        raise TypeError(f"jacobian: expression must be a vector (or a scalar), got {expression.ndim} dimensions; "
                        f"flatten it first. At {here()}")
    wrt_list = list(wrt) if isinstance(wrt, (list, tuple)) else [wrt]
    if expression.ndim == 0:
        return _format_as(wrt, grad(expression, wrt_list, consider_constant=consider_constant,
                                    disconnected_inputs=disconnected_inputs))
    n = expression.shape[0]
    results = []
    for w in wrt_list:
        results.append(map_over_index(
            lambda i, w=w: grad(expression[i], w, consider_constant=consider_constant,
                                disconnected_inputs=disconnected_inputs), n))
    return _format_as(wrt, results)


def hessian(cost, wrt, consider_constant=None, disconnected_inputs: str = "raise"):
    """The Hessian of the scalar `cost` w.r.t. each vector in `wrt`."""
    from . import tensor as T

    cost = T.as_tensor_variable(cost)
    if cost.ndim != 0:
        raise TypeError(f"hessian: cost must be a scalar, {cost} has {cost.ndim} dimensions. At {here()}")
    wrt_list = list(wrt) if isinstance(wrt, (list, tuple)) else [wrt]
    out = []
    for w in wrt_list:
        if w.ndim != 1:
            raise TypeError(f"hessian: {w} must be a vector, it has {w.ndim} dimensions. At {here()}")
        g = grad(cost, w, consider_constant=consider_constant, disconnected_inputs=disconnected_inputs)
        out.append(jacobian(g, w, consider_constant=consider_constant, disconnected_inputs=disconnected_inputs))
    return _format_as(wrt, out)


# --- identity ops that only change gradients --------------------------------------------------


class _GradientShaper(Op):
    """Identity in the forward pass; subclasses say what happens to the gradient."""

    view_map = {0: [0]}

    def make_node(self, x):
        from . import tensor as T

        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0]

    def infer_shape(self, fgraph, node, input_shapes):
        return input_shapes

    def R_op(self, inputs, eval_points):
        return eval_points


class ZeroGrad(_GradientShaper):
    def L_op(self, inputs, outputs, output_grads):
        from . import tensor as T

        return [T.zeros_like(inputs[0])]


class ConsiderConstant(ZeroGrad):
    pass


class DisconnectedGrad(_GradientShaper):
    def L_op(self, inputs, outputs, output_grads):
        return [DisconnectedType()()]

    def connection_pattern(self, node):
        return [[False]]


class GradClip(_GradientShaper):
    __props__ = ("clip_lower_bound", "clip_upper_bound")

    def __init__(self, clip_lower_bound, clip_upper_bound):
        if clip_upper_bound < clip_lower_bound:
            raise ValueError("grad_clip: the upper bound is below the lower bound")
        self.clip_lower_bound, self.clip_upper_bound = clip_lower_bound, clip_upper_bound

    def L_op(self, inputs, outputs, output_grads):
        from . import tensor as T

        return [T.clip(output_grads[0], self.clip_lower_bound, self.clip_upper_bound)]


class GradScale(_GradientShaper):
    __props__ = ("multiplier",)

    def __init__(self, multiplier):
        self.multiplier = multiplier

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0] * self.multiplier]


_zero_grad, _consider_constant, _disconnected_grad = ZeroGrad(), ConsiderConstant(), DisconnectedGrad()


def zero_grad(x):
    """`x` in the forward pass; a zero gradient flows back through it."""
    return _zero_grad(x)


def consider_constant(x):
    """`x` in the forward pass; treated as a constant by grad (zero gradient)."""
    return _consider_constant(x)


def disconnected_grad(x):
    """`x` in the forward pass; grad treats it as not depending on its inputs."""
    return _disconnected_grad(x)


def grad_clip(x, lower_bound, upper_bound):
    """`x` in the forward pass; its gradient is clipped to [lower_bound, upper_bound]."""
    return GradClip(lower_bound, upper_bound)(x)


def grad_scale(x, multiplier):
    """`x` in the forward pass; its gradient is multiplied by `multiplier`."""
    return GradScale(multiplier)(x)


# --- numerical verification ------------------------------------------------------------------


def verify_grad(fun, pt, n_tests: int = 2, rng=None, eps: float | None = None, out_type=None,
                abs_tol: float | None = None, rel_tol: float | None = None, mode=None,
                cast_to_output_type: bool = False, no_debug_ref: bool = True):
    """Check `fun`'s symbolic gradient at the point `pt` against finite differences.

    `fun` takes symbolic tensors (one per array in `pt`) and returns a tensor;
    the check projects its output on random directions and compares the
    gradient of that projection with central differences. Raises
    `GradientError` (also `verify_grad.E_grad`) on a mismatch.
    """
    from . import tensor as T
    from .compile.function import function

    rng = rng if rng is not None else np.random.default_rng(42)
    pt = [np.array(p) for p in pt]
    for i, p in enumerate(pt):
        if p.dtype.kind != "f":
            raise TypeError(f"verify_grad: point {i} has dtype {p.dtype}; give float arrays")
    symbolic = [T.TensorType(p.dtype, shape=tuple(1 if s == 1 else None for s in p.shape))(f"input{i}")
                for i, p in enumerate(pt)]
    out = fun(*symbolic)
    if isinstance(out, (list, tuple)):
        raise TypeError("verify_grad: fun must return a single tensor")
    out = T.as_tensor_variable(out)
    # finite differences are only as precise as the least precise of the inputs and the
    # output (a float64 point through a float32 computation needs float32's step)
    low_precision = any(p.dtype.itemsize < 8 for p in pt) or (
        out.dtype.startswith("float") and np.dtype(out.dtype).itemsize < 8)
    eps = eps or (1e-3 if low_precision else 1e-6)
    abs_tol = abs_tol if abs_tol is not None else (1e-2 if low_precision else 1e-4)
    rel_tol = rel_tol if rel_tol is not None else (1e-2 if low_precision else 1e-4)
    f_out = function(symbolic, out, mode=mode, on_unused_input="ignore")
    o_val = np.asarray(f_out(*pt))
    for _ in range(n_tests):
        projection = rng.uniform(0.5, 1.5, size=o_val.shape) * rng.choice([-1.0, 1.0], size=o_val.shape)
        proj = T.constant(np.asarray(projection, dtype=out.dtype if out.dtype.startswith("float") else "float64"))
        cost = T.sum(out * proj)
        grads = grad(cost, symbolic, disconnected_inputs="ignore")
        f_cost = function(symbolic, cost, mode=mode, on_unused_input="ignore")
        f_grad = function(symbolic, grads, mode=mode, on_unused_input="ignore")
        analytic = [np.asarray(g, dtype=np.float64) for g in f_grad(*pt)]
        for i, p in enumerate(pt):
            numeric = np.zeros(p.shape, dtype=np.float64)
            flat = p.reshape(-1)
            for j in range(flat.size):
                old = flat[j]
                flat[j] = old + eps
                plus = float(f_cost(*pt))
                flat[j] = old - eps
                minus = float(f_cost(*pt))
                flat[j] = old
                numeric.reshape(-1)[j] = (plus - minus) / (2 * eps)
            a = analytic[i]
            if a.shape != numeric.shape:
                raise GradientError(i, 0, p.shape, a.shape, numeric.shape, np.inf, np.inf, abs_tol, rel_tol)
            abs_err = np.abs(a - numeric)
            rel_err = abs_err / np.maximum(np.abs(a) + np.abs(numeric), 1e-8)
            bad = (abs_err > abs_tol) & (rel_err > rel_tol)
            # nan compares False: a nan or inf gradient must not pass unnoticed
            bad |= ~(np.isfinite(a) & np.isfinite(numeric)) & ~((a == numeric) | (np.isnan(a) & np.isnan(numeric)))
            if np.any(bad):
                k = int(np.argmax(np.where(bad, abs_err, -1)))
                raise GradientError(i, k, p.shape, a.reshape(-1)[k], numeric.reshape(-1)[k],
                                    float(abs_err.reshape(-1)[k]), float(rel_err.reshape(-1)[k]), abs_tol, rel_tol)


verify_grad.E_grad = GradientError
