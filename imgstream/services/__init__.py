"""The product's rules. Nothing here imports Reflex."""
