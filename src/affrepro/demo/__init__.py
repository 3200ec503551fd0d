"""Deterministic demo datasets in the real datasets' on-disk formats."""
