"""Theano's old gpuarray backend name. GPU support is selected with `device=cuda` via the CuPy backend (coming)."""

cuda_enabled = False
pygpu_activated = False
