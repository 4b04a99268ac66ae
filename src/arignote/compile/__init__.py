"""Compiling graphs into callables: function, In/Param/Out, Mode, shared variables."""
from .function import Function, FunctionMaker, UnusedInputError, function  # noqa: F401
from .io import In, Out, Param  # noqa: F401
from .mode import FAST_COMPILE, FAST_RUN, Mode, get_default_mode, get_mode  # noqa: F401
from .profiling import ProfileStats  # noqa: F401
from .sharedvalue import SharedVariable, shared, shared_constructor  # noqa: F401
from . import mode, function as function_module, sharedvalue, io  # noqa: F401
