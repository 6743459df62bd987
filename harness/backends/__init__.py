"""Backends: one module per model-spec scheme, registered in BACKENDS by scheme name."""
