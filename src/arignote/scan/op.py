"""The Scan op: a loop whose body is a graph.

Outer inputs, in order:
    n_steps                       int64 scalar
    sequences                     one per (sequence, tap), already aligned: step t reads seq[t]
    recurrent initial buffers     one per recurrent output, shape (L, ...) with L = max |tap|
                                  (oldest first; a plain `outputs_info` state is a buffer of 1)
    shared initial values         shared variables the body updates (e.g. random generators)
    non-sequences                 everything else the body reads
Outer outputs, in order:
    recurrent outputs             the states computed, (n_steps, ...) — or only the newest `keep`
                                  values (initial ones included when the loop ran fewer steps)
    per-step outputs (nit_sot)    (n_steps, ...) — or only the last `keep`
    shared final values
Inner inputs: sequence slices, each recurrent output's taps (ascending), shared
states, non-sequences. Inner outputs: new recurrent states, per-step outputs,
new shared states, and last the `until` condition for a while-loop.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from ..graph.basic import Apply, Op


@dataclass(frozen=True)
class ScanSpec:
    """The loop's layout: how many inputs/outputs of each kind, and recurrent taps."""

    n_seqs: int
    taps: tuple  # per recurrent output: ascending negative taps, e.g. (-2, -1)
    n_nitsot: int
    n_shared: int
    n_non_seqs: int
    as_while: bool
    keep: tuple  # per recurrent and per-step output: None (all steps) or k (only the last k)

    @property
    def n_rec(self) -> int:
        return len(self.taps)

    def buffer_len(self, i: int) -> int:
        return -min(self.taps[i])


class Scan(Op):
    """Run the inner graph once per step (the reference implementation, in Python)."""

    def __init__(self, inner_inputs, inner_outputs, spec: ScanSpec, name: str | None = None,
                 mode=None, truncate_gradient: int = -1):
        self.inner_inputs = list(inner_inputs)
        self.inner_outputs = list(inner_outputs)
        self.spec = spec
        self.name = name
        self.mode = mode
        self.truncate_gradient = truncate_gradient
        self._fn = None
        # the native backend compiles the loop itself; it sets this when it cannot (link/numba/lowerings/scan.py)
        self._inner_runs_native = False

    # Scans are compared by identity: two loops are merged only by a rewrite that proves them equal.
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __str__(self):
        return f"Scan{{{self.name or 'scan_fn'}}}"

    def with_spec(self, **changes) -> "Scan":
        from dataclasses import replace

        return Scan(self.inner_inputs, self.inner_outputs, replace(self.spec, **changes), self.name,
                    self.mode, self.truncate_gradient)

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_fn"] = None  # compiled for this process; rebuilt on first use
        state["_inner_runs_native"] = False  # the native lowering of the graph it lands in decides
        return state

    # -- node construction ------------------------------------------------------------
    def make_node(self, n_steps, *outer):
        from .. import tensor as T

        spec = self.spec
        n_steps = T.cast(T.as_tensor_variable(n_steps), "int64")
        outer = [T.as_tensor_variable(v) if not hasattr(v, "type") else v for v in outer]
        expected = spec.n_seqs + spec.n_rec + spec.n_shared + spec.n_non_seqs
        if len(outer) != expected:
            raise ValueError(f"{self}: expected {expected} outer inputs, got {len(outer)}")
        inner_out_rec = self.inner_outputs[: spec.n_rec]
        inner_out_nit = self.inner_outputs[spec.n_rec: spec.n_rec + spec.n_nitsot]
        outputs = []
        for i, out in enumerate(inner_out_rec):
            outputs.append(T.TensorType(out.dtype, shape=(None,) + _loose(out.type.shape))())
        for out in inner_out_nit:
            outputs.append(T.TensorType(out.dtype, shape=(None,) + _loose(out.type.shape))())
        shared_start = spec.n_seqs + spec.n_rec
        for v in outer[shared_start: shared_start + spec.n_shared]:
            outputs.append(v.type())
        return Apply(self, [n_steps, *outer], outputs)

    # -- evaluation ------------------------------------------------------------------------
    def _inner_mode(self):
        """The scan's mode, on the reference backend unless the native one cannot run this loop.

        This perform runs while a native program is being compiled (tiered
        execution) or where the whole function runs on the reference backend;
        a natively compiled inner function would then be compiled for nothing.
        """
        from ..compile.mode import Mode, get_mode

        mode = get_mode(self.mode)
        if getattr(self, "_inner_runs_native", False) or mode.linker_name in ("vm", "py"):
            return mode
        return Mode("vm", mode.optimizer, None, mode.include_tags, mode.exclude_tags)

    def _inner_function(self):
        if self._fn is None:
            from ..compile.function import function

            self._fn = function(self.inner_inputs, self.inner_outputs, mode=self._inner_mode(),
                                on_unused_input="ignore")
            self._fn.trust_input = True
        return self._fn

    def perform(self, node, inputs, output_storage):
        spec = self.spec
        step = self._inner_function().step_runner()
        n = int(inputs[0])
        pos = 1
        seqs = inputs[pos: pos + spec.n_seqs]
        pos += spec.n_seqs
        inits = inputs[pos: pos + spec.n_rec]
        pos += spec.n_rec
        shared = list(inputs[pos: pos + spec.n_shared])
        pos += spec.n_shared
        non_seqs = list(inputs[pos:])
        if n < 0:
            raise ValueError(f"{self}: the number of steps is negative ({n}) (built at "
                             f"{node.outputs[0].creation_line if node.outputs else '?'})")
        for k, s in enumerate(seqs):
            if s.shape[0] < n:
                raise ValueError(f"{self}: sequence {k} has {s.shape[0]} entries but the loop runs {n} steps")
        rec_types = [o.type for o in node.outputs[: spec.n_rec]]
        # a for-loop knows its length: allocate it once; a while-loop's n_steps is only a bound,
        # so its histories start small and double
        capacity = min(n, 4096) if spec.as_while else n
        histories = []
        for i, init in enumerate(inits):
            length = spec.buffer_len(i)
            if init.shape[0] < length:
                raise ValueError(f"{self}: the initial value of recurrent output {i} needs {length} entries "
                                 f"(taps {list(spec.taps[i])}), got {init.shape[0]}")
            start = init[init.shape[0] - length:]
            dtype = rec_types[i].numpy_dtype
            histories.append(_FullHistory(start, n, dtype, capacity) if spec.keep[i] is None
                             else _RecentHistory(start, spec.keep[i], dtype))
        nit_types = [o.type for o in node.outputs[spec.n_rec: spec.n_rec + spec.n_nitsot]]
        collectors = [_Collector(n, spec.keep[spec.n_rec + j], nit_types[j], capacity)
                      for j in range(spec.n_nitsot)]
        for t in range(n):
            args = [s[t] for s in seqs]
            for i, history in enumerate(histories):
                args.extend(history.taps(spec.taps[i]))
            args.extend(shared)
            args.extend(non_seqs)
            outs = step(args)
            for i, history in enumerate(histories):
                if not history.push(outs[i]):
                    raise ValueError(
                        f"{self}: step {t} returned shape {outs[i].shape} for recurrent output {i}, whose "
                        f"previous value has shape {history.state_shape}; a recurrent output must keep its shape")
            for j, collector in enumerate(collectors):
                collector.push(outs[spec.n_rec + j])
            base = spec.n_rec + spec.n_nitsot
            shared = list(outs[base: base + spec.n_shared])
            if spec.as_while and bool(outs[-1]):
                break
        for i, history in enumerate(histories):
            output_storage[i][0] = history.result()
        for j, collector in enumerate(collectors):
            output_storage[spec.n_rec + j][0] = collector.result()
        for k in range(spec.n_shared):
            output_storage[spec.n_rec + spec.n_nitsot + k][0] = shared[k]

    # -- shapes and gradients -----------------------------------------------------------------
    def infer_shape(self, fgraph, node, input_shapes):
        from .. import tensor as T

        spec = self.spec
        if spec.as_while:
            raise NotImplementedError("the length of a while-loop's outputs is known only by running it")
        n = node.inputs[0]
        shapes = []
        init_shapes = input_shapes[1 + spec.n_seqs: 1 + spec.n_seqs + spec.n_rec]
        for i in range(spec.n_rec):
            length = n if spec.keep[i] is None else T.minimum(n + spec.buffer_len(i), spec.keep[i])
            shapes.append((length,) + tuple(init_shapes[i][1:]))
        for j in range(spec.n_nitsot):
            out = node.outputs[spec.n_rec + j]
            keep = spec.keep[spec.n_rec + j]
            length = n if keep is None else T.minimum(n, keep)
            shapes.append((length,) + tuple(T.shape(out)[d] for d in range(1, out.ndim)))
        shared_shapes = input_shapes[1 + spec.n_seqs + spec.n_rec: 1 + spec.n_seqs + spec.n_rec + spec.n_shared]
        shapes.extend(shared_shapes)
        return shapes

    def connection_pattern(self, node):
        return [[True] * len(node.outputs) for _ in node.inputs]

    def L_op(self, inputs, outputs, output_grads):
        from .grad import scan_gradient

        return scan_gradient(self, inputs, outputs, output_grads)


class _FullHistory:
    """Every state of a recurrent output, written step by step into one array.

    Rows 0..L-1 hold the initial values, row L+t the state after step t, so a
    tap reads a row and the output is a view of the rows computed: no copies.
    """

    def __init__(self, initial, n_steps: int, dtype, capacity: int):
        self.length = initial.shape[0]
        self.state_shape = initial.shape[1:]
        self.n_steps = n_steps
        self.buffer = np.empty((self.length + capacity,) + self.state_shape, dtype=dtype)
        self.buffer[: self.length] = initial
        self.filled = self.length

    def taps(self, taps):
        return [self.buffer[self.filled + tap] for tap in taps]

    def push(self, value) -> bool:
        if value.shape != self.state_shape:
            return False
        if self.filled == self.buffer.shape[0]:
            self.buffer = _grown(self.buffer, self.length + self.n_steps)
        self.buffer[self.filled] = value
        self.filled += 1
        return True

    def result(self):
        return self.buffer[self.length: self.filled]


class _RecentHistory:
    """Only the newest values of a recurrent output (the memory rule: `result[-1]` keeps one)."""

    def __init__(self, initial, keep: int, dtype):
        self.state_shape = initial.shape[1:]
        self.keep = keep
        self.ring = deque((np.asarray(v, dtype=dtype) for v in initial), maxlen=max(keep, initial.shape[0]))
        self.dtype = dtype

    def taps(self, taps):
        ring = self.ring
        return [ring[len(ring) + tap] for tap in taps]

    def push(self, value) -> bool:
        if value.shape != self.state_shape:
            return False
        self.ring.append(value)
        return True

    def result(self):  # the newest `keep` values, initial ones included when the loop was short
        kept = list(self.ring)[-self.keep:]
        return np.stack(kept).astype(self.dtype, copy=False)


class _Collector:
    """A per-step output: all steps in one array (allocated at the first step), or the last `keep`."""

    def __init__(self, n_steps: int, keep, ttype, capacity: int):
        self.n_steps, self.keep, self.ttype, self.capacity = n_steps, keep, ttype, capacity
        self.array = None
        self.count = 0
        self.recent = deque(maxlen=keep) if keep is not None else None

    def push(self, value):
        if self.recent is not None:
            self.recent.append(value)
            return
        if self.array is None:
            self.array = np.empty((self.capacity,) + value.shape, dtype=self.ttype.numpy_dtype)
        elif value.shape != self.array.shape[1:]:
            raise ValueError(f"a per-step output changed shape from {self.array.shape[1:]} to {value.shape}")
        if self.count == self.array.shape[0]:
            self.array = _grown(self.array, self.n_steps)
        self.array[self.count] = value
        self.count += 1

    def result(self):
        if self.recent is not None:
            return _stack(list(self.recent), self.ttype, None)
        if self.array is None:
            return _stack([], self.ttype, None)
        return self.array[: self.count]


def _grown(array, limit: int):
    """`array` with room for twice as many rows (at most `limit`), its rows kept."""
    bigger = np.empty((min(limit, 2 * array.shape[0] or 1),) + array.shape[1:], dtype=array.dtype)
    bigger[: array.shape[0]] = array
    return bigger


def _loose(shape):
    """Static shape of a per-step value as stored: only broadcastable dims stay known."""
    return tuple(1 if s == 1 else None for s in shape)


def _stack(items, ttype, trailing_shape):
    if items:
        return np.stack(items).astype(ttype.numpy_dtype, copy=False)
    trailing = tuple(trailing_shape) if trailing_shape is not None else tuple(0 if s is None else s
                                                                               for s in ttype.shape[1:])
    return np.zeros((0,) + trailing, dtype=ttype.numpy_dtype)
