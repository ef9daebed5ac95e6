"""Pytest plugin (placeholder)."""
