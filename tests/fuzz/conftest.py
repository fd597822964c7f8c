"""Hypothesis profiles of the fuzzing suite, and the gateway app for the HTTP ingest fuzz.

``make test`` runs the ``fuzz-short`` profile (about 200 examples per property, no deadline:
first use of a grammar compiles it; derandomized under CI so a run is reproducible);
``make fuzz`` without atheris runs ``fuzz-long``. EDIGATE_FUZZ_PROFILE picks one.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# The HTTP fuzz runs against the same app the gateway tests use: their fixtures, not a copy.
from tests.gateway.conftest import client, runtime  # noqa: F401

_COMMON = dict(deadline=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.filter_too_much])
settings.register_profile("fuzz-short", max_examples=200,
                          derandomize=os.environ.get("CI", "").lower() == "true", **_COMMON)
settings.register_profile("fuzz-long", max_examples=20_000, **_COMMON)
PROFILE = os.environ.get("EDIGATE_FUZZ_PROFILE", "fuzz-short")

