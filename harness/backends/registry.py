"""The BACKENDS registry: model-spec scheme -> Backend class.

It sits below both the backend concept (harness/backends/base.py, whose `load_backend` looks a
scheme up here) and the model spec (harness/models/spec.py, which asks it whether a scheme is a
plug-in's), so that neither reaches up into the other for it. It imports only the registry
mechanism: the BACKENDS scan of harness/backends imports this module too, at no cost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.registry import Registry

if TYPE_CHECKING:
    from harness.backends.base import Backend

BACKENDS: Registry[type[Backend]] = Registry("backend", entry_point_group="harness.backends", builtin_packages=["harness.backends"])
