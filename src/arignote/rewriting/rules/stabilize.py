"""Stabilize: rewrite expressions that overflow, underflow or cancel into stable equivalents.

The rules live in `stabilize_elemwise` (log1p, expm1, log1mexp, the
log-sigmoid family, the explicit sigmoid, and the gradient of a log of a
sigmoid) and `stabilize_softmax` (log-softmax, its gradient, the
cross-entropies, log-sum-exp and its gradient); importing this module
registers them, in the phase 'stabilize' (run by 'fast_run'), in the order
they are tried on a node. The gradient rewrites matter because `grad` is
taken before compiling: it differentiates the naive form (`g / p` for
`log(p)`), so stabilizing only the forward value would leave a gradient
that is `inf * 0` where p underflows.
"""
from . import stabilize_elemwise, stabilize_softmax  # noqa: F401

#: the names of the stabilize rewrites, in registration order
STABILIZE_REWRITES = (
    "local_exp_to_sigmoid", "local_1msigmoid", "local_log_sigmoid", "local_log1m_sigmoid", "local_log1mexp",
    "local_log1p", "local_log1p_exp", "local_expm1", "local_sigmoid_grad_cancel",
    "local_log_softmax", "local_log_softmax_grad", "local_crossentropy_softmax",
    "local_sigmoid_binary_crossentropy", "local_log_sum_exp", "local_log_sum_exp_grad",
)
