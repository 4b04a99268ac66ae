"""`theano.sandbox`: the MRG31k3p random streams (`rng_mrg`) and Theano's old GPU module names.

`theano.sandbox.cuda` and `theano.sandbox.gpuarray` import (for code that
checks `cuda_enabled`) but provide no GPU support: GPUs are selected with
`device=cuda`, through the CuPy backend.
"""
