"""Cursor pagination for ``GET /assistants``, as one small strategy.

The list endpoint pages like this::

    GET /assistants?limit=100&order=asc
    {"object": "list", "data": [...], "first_id": "asst_a", "last_id": "asst_k", "has_more": true}
    GET /assistants?limit=100&order=asc&after=asst_k
    ...                                                    "has_more": false}

``order=asc`` walks from the oldest assistant, so assistants created while the
export runs land on the last pages instead of shifting earlier ones.
"""

from __future__ import annotations

from typing import Any

from assistants_export.connectors.core.errors import PaginationError


class CursorPaginator:
    """``first_params()`` for the first request, then ``next_params(page)`` until it returns ``None``."""

    def __init__(self, *, limit: int) -> None:
        self.limit = limit
        self._after: str | None = None
        self.pages = 0

    def first_params(self) -> dict[str, Any]:
        return {"limit": self.limit, "order": "asc"}

    def next_params(self, page: dict[str, Any]) -> dict[str, Any] | None:
        """Parameters of the next request, ``None`` at the end, or :class:`PaginationError`."""
        self.pages += 1
        if not page.get("has_more"):
            return None
        data = page.get("data") or []
        last_id = page.get("last_id")
        if not last_id and data and isinstance(data[-1], dict):
            last_id = data[-1].get("id")
        if not isinstance(last_id, str) or not last_id or last_id == self._after:
            raise PaginationError(
                f"the list endpoint said has_more=true but its cursor did not advance "
                f"(page {self.pages}, last_id={last_id!r}); the server's pagination is broken, "
                "pass the IDs explicitly instead of --discover"
            )
        self._after = last_id
        return {**self.first_params(), "after": last_id}
