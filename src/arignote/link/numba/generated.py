"""The module that generated native code claims as its own.

Numba records a compiled function's module and imports it again when it loads
that function's machine code from its on-disk cache; generated code has no
module file, so it names this one (its globals are data, frozen at compile
time, so nothing is looked up here).
"""
