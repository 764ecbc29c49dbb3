"""Off the retired Assistants API: archived assistants as ready Responses API requests.

* :func:`assistants_export.connectors.migration.responses.to_responses_request`: one Assistant object to a request body;
* :func:`assistants_export.connectors.migration.warehouse.migrate_warehouse`: every (or some) assistant of a warehouse,
  as of today or a past date;
* :mod:`assistants_export.connectors.migration.schema`: the official CreateResponse JSON Schema the requests satisfy.
"""

from assistants_export.connectors.migration.responses import (
    REASONING_MODELS,
    WARNING_CODES,
    Migration,
    MigrationWarning,
    to_responses_request,
)
from assistants_export.connectors.migration.warehouse import MigratedAssistant, migrate_warehouse

__all__ = ["REASONING_MODELS", "WARNING_CODES", "MigratedAssistant", "Migration", "MigrationWarning",
           "migrate_warehouse", "to_responses_request"]
