"""Printing graphs: pp (math-like text), debugprint (the node tree), pydotprint (pictures)."""
from .pp import pp, pprint  # noqa: F401
from .debugprint import debugprint  # noqa: F401
