"""The change history: SCD2 versions and a field-level change log, replayed from stored snapshots."""

from .changes import FieldChange, diff
from .engine import DEFAULT_MASS_DELETION_THRESHOLD, HistoryResult, MassDeletionError, rebuild_history

__all__ = ["DEFAULT_MASS_DELETION_THRESHOLD", "FieldChange", "HistoryResult", "MassDeletionError", "diff",
           "rebuild_history"]
