"""Loops over tensors: scan and its relatives (map_over_index for jacobians)."""
