"""`theano.tensor.nnet.nnet`: the neural-network ops, under Theano's module name."""
from .activations import *  # noqa: F401,F403
from .activations import __all__ as _activations
from .crossentropy import *  # noqa: F401,F403
from .crossentropy import __all__ as _crossentropy
from .sigm import *  # noqa: F401,F403
from .sigm import __all__ as _sigm
from .softmax_ops import *  # noqa: F401,F403
from .softmax_ops import __all__ as _softmax

__all__ = _sigm + _activations + _softmax + _crossentropy
