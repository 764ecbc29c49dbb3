"""A loopback imitation of the OpenAI Assistants API (``GET /assistants`` and ``GET /assistants/{id}``).

Used by integration tests, ``make demo`` and benchmarks: it serves realistic fixtures over
real HTTP, checks auth and the beta header like the API, and injects deterministic faults
(rate limits, 5xx, resets, hangs, truncated or invalid bodies) per assistant ID and attempt.
Standard library only, loopback only.
"""

from assistants_export.sandbox.evolving import EvolvingCatalog
from assistants_export.sandbox.faults import Fault, FaultPlan
from assistants_export.sandbox.fixtures import (
    Catalog,
    GeneratedCatalog,
    StaticCatalog,
    bundled_assistants,
    invalid_assistants,
    serialize_body,
)
from assistants_export.sandbox.server import SandboxServer, ServerStats, mask_key

__all__ = [
    "Catalog",
    "EvolvingCatalog",
    "Fault",
    "FaultPlan",
    "GeneratedCatalog",
    "SandboxServer",
    "ServerStats",
    "StaticCatalog",
    "bundled_assistants",
    "invalid_assistants",
    "mask_key",
    "serialize_body",
]
