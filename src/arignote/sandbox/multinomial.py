"""Categorical sampling from given uniforms (what MRG_RandomStreams.multinomial/choice use).

The randomness comes in as a vector of uniforms; these ops only turn them into
outcomes, so they are deterministic and easy to test.
"""
from __future__ import annotations

import numpy as np

from ..graph.basic import Apply, Op
from ..graph.sourceline import here
from ..tensor.type import TensorType, normalize_dtype
from ..tensor.variable import as_tensor_variable


def _check_inputs(op, pvals, unis, n):
    pvals, unis, n = as_tensor_variable(pvals), as_tensor_variable(unis), as_tensor_variable(n)
    if pvals.ndim != 2:
        raise NotImplementedError(f"{op}: pvals must be a matrix (one distribution per row), got {pvals.type}. "
                                  f"At {here()}")
    if unis.ndim != 1:
        raise NotImplementedError(f"{op}: unis must be a vector, got {unis.type}. At {here()}")
    if n.ndim != 0 or n.dtype[0] not in "iu":
        raise TypeError(f"{op}: n must be an integer scalar, got {n} ({n.type}). At {here()}")
    return pvals, unis, n


class MultinomialFromUniform(Op):
    """Counts: row i gets n draws, draw c chosen by unis[c * rows + i] against the row's cumulative sum."""

    __props__ = ("odtype",)

    def __init__(self, odtype="auto"):
        self.odtype = odtype

    def __str__(self):
        return f"{type(self).__name__}{{{self.odtype}}}"

    def make_node(self, pvals, unis, n=1):
        pvals, unis, n = _check_inputs(self, pvals, unis, n)
        odtype = pvals.dtype if self.odtype == "auto" else normalize_dtype(self.odtype)
        return Apply(self, [pvals, unis, n], [TensorType(odtype, shape=pvals.type.shape)()])

    def perform(self, node, inputs, output_storage):
        pvals, unis, n_samples = inputs
        n_samples = int(n_samples)
        rows, k = pvals.shape
        if unis.shape[0] != rows * n_samples:
            raise ValueError(f"{self}: {unis.shape[0]} uniforms for {rows} distributions x {n_samples} samples; "
                             f"built at {node.outputs[0].creation_line}")
        out = np.zeros((rows, k), dtype=node.outputs[0].dtype)
        # accumulate in float64 whatever pvals' dtype, as Theano's C code did
        cumsum = np.cumsum(pvals, axis=1, dtype=np.float64)
        u = unis.reshape(n_samples, rows)
        # outcome = first index whose cumulative sum reaches u (a left search)
        outcome = (cumsum[None, :, :] < u[:, :, None]).sum(axis=2)
        row_index = np.broadcast_to(np.arange(rows), outcome.shape)
        ok = outcome < k  # a row summing below u picks nothing
        np.add.at(out, (row_index[ok], outcome[ok]), 1)
        output_storage[0][0] = out

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        from ..gradient import grad_undefined

        return [grad_undefined(self, k, x, "sampling is not differentiable") for k, x in enumerate(inputs)]


class ChoiceFromUniform(MultinomialFromUniform):
    """Indices: row i gets n outcomes; without replacement a chosen outcome's probability is removed."""

    __props__ = ("odtype", "replace")

    def __init__(self, odtype="auto", replace=False):
        super().__init__(odtype)
        self.replace = replace

    def __str__(self):
        return f"{type(self).__name__}{{odtype={self.odtype}, replace={self.replace}}}"

    def make_node(self, pvals, unis, n=1):
        pvals, unis, n = _check_inputs(self, pvals, unis, n)
        odtype = "int64" if self.odtype == "auto" else normalize_dtype(self.odtype)
        return Apply(self, [pvals, unis, n], [TensorType(odtype, shape=(pvals.type.shape[0], None))()])

    def perform(self, node, inputs, output_storage):
        pvals, unis, n_samples = inputs
        n_samples = int(n_samples)
        rows, k = pvals.shape
        where = node.outputs[0].creation_line
        if n_samples > k and not self.replace:
            raise ValueError(f"{self}: cannot draw {n_samples} samples without replacement from {k} outcomes; "
                             f"built at {where}")
        if unis.shape[0] != rows * n_samples:
            raise ValueError(f"{self}: {unis.shape[0]} uniforms for {rows} distributions x {n_samples} samples; "
                             f"built at {where}")
        p = np.array(pvals, copy=True)
        out = np.full((rows, n_samples), -1, dtype=node.outputs[0].dtype)
        all_rows = np.arange(rows)
        for c in range(n_samples):
            u = unis[c * rows:(c + 1) * rows]
            cum = np.cumsum(p, axis=1)
            hit = cum > u[:, None]
            found = hit.any(axis=1)
            m = hit.argmax(axis=1)
            out[found, c] = m[found]
            if not self.replace:
                r = all_rows[found]
                p[r, m[found]] = 0
                p[r] /= p[r].sum(axis=1, keepdims=True)
        output_storage[0][0] = out

    def infer_shape(self, fgraph, node, input_shapes):
        return [(input_shapes[0][0], node.inputs[2])]


__all__ = ["MultinomialFromUniform", "ChoiceFromUniform"]
