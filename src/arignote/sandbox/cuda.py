"""Theano's old CUDA backend name. GPU support is selected with `device=cuda` via the CuPy backend (coming)."""

cuda_enabled = False
cuda_available = False
