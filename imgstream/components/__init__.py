"""Leaf widgets."""
