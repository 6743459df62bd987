"""Model specs and the backends that serve them."""
