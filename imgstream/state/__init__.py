"""Reflex states: UI state only; the rules live in imgstream.services."""
