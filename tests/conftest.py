"""Shared fixtures: the optional JAX import (float64) and hypothesis settings."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# Property tests call into compiled code whose first call may be slow; no deadlines.
settings.register_profile(
    "longdep",
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("longdep")


@pytest.fixture(scope="session")
def jax() -> Any:
    """The ``jax`` module in float64 mode; skips the test when JAX is not installed."""
    jax = pytest.importorskip(
        "jax", reason="JAX is optional (pip install 'jax[cpu]'); needed for autodiff parity"
    )
    jax.config.update("jax_enable_x64", True)
    return jax
