"""Printing graphs: pp (math-like text), debugprint (the node tree), pydotprint (pictures).

`pp(x * y + z)` gives ``'((x * y) + z)'``; `debugprint(f)` prints a compiled
function's graph as an indented tree, one line per node.
"""
from .pp import (pp, pprint, PPrinter, PrinterState, OperatorPrinter, PatternPrinter,  # noqa: F401
                 FunctionPrinter, IgnorePrinter, LeafPrinter, DefaultPrinter, default_printer, leaf_printer)
from .debugprint import debugprint, char_from_number  # noqa: F401
from .print_op import Print  # noqa: F401
from .pydotprint import pydotprint  # noqa: F401
