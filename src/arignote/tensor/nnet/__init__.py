"""`theano.tensor.nnet`: activations, softmax and cross-entropies for neural networks.

`sigmoid` and `softplus` are the elementwise functions of the tensor
namespace; the others are defined in the submodules `sigm`, `activations`,
`softmax_ops` and `crossentropy` (`nnet.nnet` holds them all, under Theano's
module name). Convolutions and pooling are not provided.
"""
from . import activations, crossentropy, nnet, sigm, softmax_ops  # noqa: F401
from .nnet import *  # noqa: F401,F403
from .nnet import __all__  # noqa: F401
