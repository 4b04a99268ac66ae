"""The `T` namespace: `import arignote.tensor as T` (or `import theano.tensor as T`).

Variable constructors, every tensor op as a function, and `T.grad`.
"""
from ..graph.basic import Variable  # noqa: F401  (theano.tensor.Variable)
from .type import TensorType  # noqa: F401
from .variable import TensorVariable, TensorConstant, as_tensor_variable, constant  # noqa: F401
from .constructors import *  # noqa: F401,F403
from .constructors import tensor  # noqa: F401
from .math import *  # noqa: F401,F403
from .math import abs_, and_, or_, round, pow, cast, abs, fill, second  # noqa: F401,A004
from .reduce import (sum, prod, max, min, any, all, argmax, argmin, max_and_argmax,  # noqa: F401,A004
                     mean, var, std, logsumexp)
from .elemwise import Elemwise, DimShuffle, dimshuffle, transpose  # noqa: F401
from .shape_ops import (shape, reshape, flatten, specify_shape, patternbroadcast, addbroadcast,  # noqa: F401
                        unbroadcast, alloc, zeros, ones, full, zeros_like, ones_like, shape_padleft,
                        shape_padright, shape_padaxis, squeeze, make_vector, Shape, Reshape, Alloc,
                        SpecifyShape, MakeVector)
from .subtensor import *  # noqa: F401,F403
from .join_ops import *  # noqa: F401,F403
from .construct import *  # noqa: F401,F403
from .extra_ops import *  # noqa: F401,F403
from .sort_ops import *  # noqa: F401,F403
from .blas import *  # noqa: F401,F403
from . import nnet, extra_ops  # noqa: F401
from ..gradient import grad, jacobian, hessian, Rop, Lop, verify_grad, zero_grad  # noqa: F401,E402
from ..gradient import consider_constant, disconnected_grad, grad_clip  # noqa: F401,E402

from . import random, shared_randomstreams  # noqa: E402,F401  (registers the RandomState shared constructor)
from .random import permute_row_elements  # noqa: E402,F401
from .random import basic as raw_random  # noqa: E402,F401
import sys as _sys  # noqa: E402

basic = _sys.modules[__name__]  # theano.tensor.basic.X names are the same objects
_tensor_py_operators = TensorVariable
