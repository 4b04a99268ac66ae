"""Cross-entropies and the confusion matrix of `theano.tensor.nnet`.

Class indices select one entry per row with `PickColumns` (`c[i, t[i]]`);
its gradient is `PutColumns` (scatter into zeros) and the reverse, so the
ops are closed under differentiation. The one-hot cross-entropy is its own
op (`CrossentropyCategorical1Hot`), as in Theano, whose gradient is built
from those two.
"""
from __future__ import annotations

import numpy as np

from ...graph.basic import Apply, Op
from ...graph.sourceline import here
from ...gradient import DisconnectedType
from ..type import FLOAT_DTYPES, INT_DTYPES, TensorType
from ..variable import as_tensor_variable
from .softmax_ops import log_softmax, softmax

__all__ = ["categorical_crossentropy", "crossentropy_categorical_1hot", "binary_crossentropy",
           "sigmoid_binary_crossentropy", "crossentropy_softmax_1hot", "crossentropy_softmax_1hot_with_bias",
           "crossentropy_softmax_argmax_1hot_with_bias", "confusion_matrix", "CrossentropyCategorical1Hot",
           "PickColumns", "PutColumns", "ConfusionMatrix"]


def _check_coding_and_index(opname: str, coding, index):
    if coding.ndim != 2 or coding.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{opname}: the distribution {coding} must be a float matrix, got {coding.type}. "
                        f"At {here()}")
    if index.ndim != 1 or index.dtype not in INT_DTYPES:
        raise TypeError(f"{opname}: the class indices {index} must be an integer vector, got {index.type}. "
                        f"At {here()}")
    rows, n = coding.type.shape[0], index.type.shape[0]
    if rows is not None and n is not None and rows != n:
        raise ValueError(f"{opname}: {coding} has {rows} rows but {index} holds {n} indices. At {here()}")


def _check_runtime_indices(node, coding_value, index_value):
    rows, cols = coding_value.shape
    if index_value.shape[0] != rows:
        raise ValueError(f"{node.op}: {node.inputs[0]} has {rows} rows but {node.inputs[1]} holds "
                         f"{index_value.shape[0]} indices (built at {node.outputs[0].creation_line})")
    bad = (index_value < 0) | (index_value >= cols)
    if np.any(bad):
        i = int(np.argmax(bad))
        raise ValueError(f"{node.op}: class index {int(index_value[i])} (row {i} of {node.inputs[1]}) is out of "
                         f"range for {cols} classes (built at {node.outputs[0].creation_line})")


class PickColumns(Op):
    """`c[i, t[i]]` for each row i of the matrix `c`, with `t` an integer vector."""

    __props__ = ()

    def make_node(self, c, t):
        c, t = as_tensor_variable(c), as_tensor_variable(t)
        _check_coding_and_index("pick", c, t)
        rows = c.type.shape[0] if c.type.shape[0] is not None else t.type.shape[0]
        return Apply(self, [c, t], [TensorType(c.dtype, shape=(rows,))()])

    def perform(self, node, inputs, output_storage):
        c, t = inputs
        _check_runtime_indices(node, c, t)
        output_storage[0][0] = np.array(c[np.arange(c.shape[0]), t], dtype=c.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [(input_shapes[0][0],)]

    def L_op(self, inputs, outputs, output_grads):
        c, t = inputs
        return [PutColumns()(output_grads[0], t, c), DisconnectedType()()]

    def connection_pattern(self, node):
        return [[True], [False]]


class PutColumns(Op):
    """Zeros shaped like the matrix `like`, holding `v[i]` at `[i, t[i]]`."""

    __props__ = ()

    def make_node(self, v, t, like):
        v, t, like = as_tensor_variable(v), as_tensor_variable(t), as_tensor_variable(like)
        _check_coding_and_index("put", like, t)
        if v.ndim != 1:
            raise TypeError(f"put: the values {v} must be a vector, got {v.type}. At {here()}")
        dtype = np.result_type(v.dtype, like.dtype).name
        return Apply(self, [v, t, like], [TensorType(dtype, shape=like.type.shape)()])

    def perform(self, node, inputs, output_storage):
        v, t, like = inputs
        _check_runtime_indices(node, like, t)
        out = np.zeros(like.shape, dtype=node.outputs[0].type.numpy_dtype)
        out[np.arange(like.shape[0]), t] = v
        output_storage[0][0] = out

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[2]]

    def L_op(self, inputs, outputs, output_grads):
        from ... import tensor as T

        v, t, like = inputs
        gv = PickColumns()(output_grads[0], t)
        return [T.cast(gv, v.dtype), DisconnectedType()(), DisconnectedType()()]

    def connection_pattern(self, node):
        return [[True], [False], [False]]


class CrossentropyCategorical1Hot(Op):
    """`-log(coding_dist[i, true_one_of_n[i]])` for each row i."""

    __props__ = ()

    def make_node(self, coding_dist, true_one_of_n):
        c, t = as_tensor_variable(coding_dist), as_tensor_variable(true_one_of_n)
        _check_coding_and_index("crossentropy_categorical_1hot", c, t)
        rows = c.type.shape[0] if c.type.shape[0] is not None else t.type.shape[0]
        return Apply(self, [c, t], [TensorType(c.dtype, shape=(rows,))()])

    def perform(self, node, inputs, output_storage):
        c, t = inputs
        _check_runtime_indices(node, c, t)
        with np.errstate(divide="ignore"):
            out = -np.log(c[np.arange(c.shape[0]), t])
        output_storage[0][0] = np.asarray(out, dtype=c.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [(input_shapes[0][0],)]

    def L_op(self, inputs, outputs, output_grads):
        from ... import tensor as T

        c, t = inputs
        (g,) = output_grads
        gc = PutColumns()(-g / PickColumns()(c, t), t, c)
        return [T.cast(gc, c.dtype), DisconnectedType()()]

    def connection_pattern(self, node):
        return [[True], [False]]


crossentropy_categorical_1hot_op = CrossentropyCategorical1Hot()


def crossentropy_categorical_1hot(coding_dist, true_one_of_n):
    """`-log(coding_dist[i, true_one_of_n[i]])` per row: the negative log-likelihood of the true classes.

    coding_dist: a float matrix of probabilities (one row per example);
    true_one_of_n: an integer vector of class indices.
    """
    return crossentropy_categorical_1hot_op(coding_dist, true_one_of_n)


def categorical_crossentropy(coding_dist, true_dist):
    """The cross-entropy of each row of `coding_dist` (probabilities) against the truth.

    true_dist is either an integer vector of class indices (one per row) or
    a matrix of the same shape as `coding_dist` holding one-hot rows or
    probabilities. Returns the vector `-sum(true_dist * log(coding_dist), axis=-1)`
    (for indices: `-log(coding_dist[i, true_dist[i]])`).
    """
    from ... import tensor as T

    coding_dist, true_dist = as_tensor_variable(coding_dist), as_tensor_variable(true_dist)
    if true_dist.ndim == coding_dist.ndim:
        if true_dist.dtype not in FLOAT_DTYPES and coding_dist.dtype in FLOAT_DTYPES:
            true_dist = T.cast(true_dist, coding_dist.dtype)
        return -T.sum(true_dist * T.log(coding_dist), axis=coding_dist.ndim - 1)
    if true_dist.ndim == coding_dist.ndim - 1:
        return crossentropy_categorical_1hot(coding_dist, true_dist)
    raise TypeError(f"categorical_crossentropy: rank mismatch between the coding distribution {coding_dist} "
                    f"({coding_dist.ndim}-d) and the true distribution {true_dist} ({true_dist.ndim}-d); "
                    f"expected class indices ({coding_dist.ndim - 1}-d) or a distribution "
                    f"({coding_dist.ndim}-d). At {here()}")


def binary_crossentropy(output, target):
    """`-(target * log(output) + (1 - target) * log(1 - output))`, elementwise.

    output holds probabilities (e.g. a sigmoid); see
    sigmoid_binary_crossentropy for logits, which is more stable.
    """
    from ... import tensor as T

    return -(target * T.log(output) + (1.0 - target) * T.log(1.0 - output))


def sigmoid_binary_crossentropy(output, target):
    """`binary_crossentropy(sigmoid(output), target)`, computed stably from the logits `output`.

    Its gradient w.r.t. `output` is `sigmoid(output) - target` everywhere.
    """
    from ... import tensor as T

    output = as_tensor_variable(output)
    # each branch is finite everywhere and exact where it is used:
    # x(1-t) + softplus(-x) for x > 0, softplus(x) - x t otherwise
    return T.switch(output > 0, output * (1 - target) + T.softplus(-output),
                    T.softplus(output) - output * target)


def crossentropy_softmax_1hot_with_bias(x, b, y_idx):
    """(nll, sm): `sm = softmax(x + b)`, `nll[i] = -log(sm[i, y_idx[i]])`, computed stably."""
    x, b = as_tensor_variable(x), as_tensor_variable(b)
    if x.ndim != 2 or b.ndim != 1:
        raise TypeError(f"crossentropy_softmax_1hot_with_bias: expected a matrix and a bias vector, got "
                        f"{x.type} and {b.type}. At {here()}")
    z = x + b
    return -PickColumns()(log_softmax(z), y_idx), softmax(z)


def crossentropy_softmax_1hot(x, y_idx, **kwargs):
    """(nll, sm): `sm = softmax(x)`, `nll[i] = -log(sm[i, y_idx[i]])`, computed stably."""
    x = as_tensor_variable(x)
    if x.ndim != 2:
        raise TypeError(f"crossentropy_softmax_1hot: {x} must be a matrix, got {x.type}. At {here()}")
    y_idx = as_tensor_variable(y_idx)
    _check_coding_and_index("crossentropy_softmax_1hot", x, y_idx)
    return -PickColumns()(log_softmax(x), y_idx), softmax(x)


def crossentropy_softmax_argmax_1hot_with_bias(x, b, y_idx):
    """(nll, sm, argmax): as crossentropy_softmax_1hot_with_bias, plus the argmax of each row."""
    from ... import tensor as T

    nll, sm = crossentropy_softmax_1hot_with_bias(x, b, y_idx)
    return nll, sm, T.argmax(as_tensor_variable(x) + b, axis=1)


class ConfusionMatrix(Op):
    """([confusion matrix], [classes]) of two label vectors: entry [i, j] counts
    the examples of class order[i] predicted as order[j]."""

    __props__ = ()

    def make_node(self, actual, pred):
        actual, pred = as_tensor_variable(actual), as_tensor_variable(pred)
        for name, v in (("actual", actual), ("pred", pred)):
            if v.ndim != 1:
                raise ValueError(f"confusion_matrix: {name} ({v}) must be a vector, got {v.type}. At {here()}")
        n, m = actual.type.shape[0], pred.type.shape[0]
        if n is not None and m is not None and n != m:
            raise ValueError(f"confusion_matrix: actual has {n} labels, pred {m}. At {here()}")
        order_dtype = np.result_type(actual.dtype, pred.dtype).name
        return Apply(self, [actual, pred], [TensorType("int64", shape=(None, None))(),
                                            TensorType(order_dtype, shape=(None,))()])

    def perform(self, node, inputs, output_storage):
        actual, pred = inputs
        if actual.shape != pred.shape:
            raise ValueError(f"confusion_matrix: actual has {actual.shape[0]} labels but pred has {pred.shape[0]} "
                             f"(built at {node.outputs[0].creation_line})")
        dtype = node.outputs[1].type.numpy_dtype
        order = np.unique(np.concatenate([actual.astype(dtype), pred.astype(dtype)]))
        ia, ip = np.searchsorted(order, actual), np.searchsorted(order, pred)
        conf = np.zeros((order.size, order.size), dtype=np.int64)
        np.add.at(conf, (ia, ip), 1)
        output_storage[0][0] = conf
        output_storage[1][0] = np.asarray(order, dtype=dtype)

    def L_op(self, inputs, outputs, output_grads):
        return [DisconnectedType()(), DisconnectedType()()]

    def connection_pattern(self, node):
        return [[False, False], [False, False]]


def confusion_matrix(actual, pred):
    """[conf_mat, order]: `conf_mat[i, j]` counts examples of class `order[i]` predicted as `order[j]`.

    order is the sorted set of labels found in `actual` or `pred`.
    """
    return list(ConfusionMatrix()(actual, pred))
