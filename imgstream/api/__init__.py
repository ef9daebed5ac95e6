"""HTTP routes beside the Reflex app."""
