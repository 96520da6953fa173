"""Typed events and the in-process event bus (low layer: imports nothing of ours)."""
