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

_ADVICE = "the server's pagination is broken, pass the IDs explicitly instead of --discover"


class CursorPaginator:
    """``first_params()`` for the first request, then for each page ``next_params(page)`` (``None`` at the end) and
    :meth:`admit` for each of its assistants.

    A listing must end: every page with ``has_more`` has to move the cursor somewhere it has never been and bring
    assistants never seen before. A cursor that stays, comes back (A -> B -> A) or is
    missing, a page with ``has_more`` but no assistants, and an assistant listed again raise
    :class:`PaginationError`, a whole-run error: a hostile or broken server cannot keep the run listing for ever.
    What it remembers: the cursors (one per page) and the IDs listed, about 100 bytes each.
    """

    def __init__(self, *, limit: int) -> None:
        self.limit = limit
        self._after: str | None = None
        self._cursors: dict[str, int] = {}
        """Each cursor followed, and the page that gave it."""
        self._listed: dict[str, int] = {}
        """Each assistant ID listed, and its page."""
        self.pages = 0

    def first_params(self) -> dict[str, Any]:
        return {"limit": self.limit, "order": "asc"}

    def admit(self, assistant_id: str) -> None:
        """Note an assistant of the page last given to :meth:`next_params`; one listed before (on any page, that
        one too) raises."""
        page, first = self.pages, self._listed.get(assistant_id)
        if first is not None:
            raise PaginationError(
                f"the list endpoint listed {_shown(assistant_id)} again on page {page} (first on page {first}), "
                f"so its listing might never end; {_ADVICE}"
            )
        self._listed[assistant_id] = page

    def next_params(self, page: dict[str, Any]) -> dict[str, Any] | None:
        """Parameters of the request after ``page``, ``None`` at the end, or :class:`PaginationError`; called when
        the page arrives, before its assistants are admitted, so a page served again is told by its cursor."""
        self.pages += 1
        if not page.get("has_more"):
            return None
        data = page.get("data") or []
        if not data:
            raise PaginationError(f"the list endpoint said has_more=true on page {self.pages} but listed no "
                                  f"assistants on it, so its listing would never end; {_ADVICE}")
        last_id = page.get("last_id")
        if not last_id and isinstance(data[-1], dict):
            last_id = data[-1].get("id")
        if not isinstance(last_id, str) or not last_id or last_id == self._after:
            raise PaginationError(
                f"the list endpoint said has_more=true but its cursor did not advance "
                f"(page {self.pages}, last_id={_shown(last_id)}); {_ADVICE}"
            )
        if last_id in self._cursors:
            raise PaginationError(
                f"the list endpoint's cursor came back to {_shown(last_id)} on page {self.pages} (first given on "
                f"page {self._cursors[last_id]}), so its listing would go round in circles; {_ADVICE}"
            )
        self._cursors[last_id] = self.pages
        self._after = last_id
        return {**self.first_params(), "after": last_id}


def _shown(value: object) -> str:
    """A server's value in a message: quoted, and cut so a hostile one cannot flood the line."""
    text = repr(value)
    return text if len(text) <= 82 else text[:80] + "..."
