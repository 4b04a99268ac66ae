"""Backends: the NumPy reference VM (vm.py) and the compile cache (cache.py)."""
