"""The column lists of the views over the stored tables (``sql/stored/<view>.sql``), generated from the schemas.

Each view's ``SELECT`` list is its table's columns (:mod:`assistants_export.connectors.core.schemas`) in order,
each taken from the row table the view starts from (the membership, or the versions) when it has the column,
else from the payload table it joins. The rest of each file (its comment, its joins) is written by hand.
``python -m assistants_export.connectors.warehouse.stored_views`` rewrites the lists after a schema change;
``tests/warehouse/test_stored_views.py`` regenerates them and fails when a file differs.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from assistants_export.connectors.core.schemas import (
    ASSISTANT_HISTORY,
    ASSISTANT_METADATA,
    ASSISTANT_TOOL_RESOURCES,
    ASSISTANT_TOOLS,
    ASSISTANT_VERSIONS,
    ASSISTANTS,
    PAYLOAD_METADATA,
    PAYLOAD_TOOL_RESOURCES,
    PAYLOAD_TOOLS,
    PAYLOADS,
    RAW_ASSISTANTS,
    SNAPSHOT_MEMBERS,
    TableSpec,
)

STORED_SQL = Path(__file__).resolve().parents[2] / "sql" / "stored"
"""The folder of the view files (the repository's ``sql/stored``, also inside the installed package)."""

WIDTH = 120
"""The longest line a generated list may have."""


@dataclass(frozen=True)
class ViewColumns:
    """Where a view's columns come from: the rows it starts from (alias and table), then the payload table."""

    view: TableSpec
    rows_alias: str
    rows: TableSpec
    payload_alias: str
    payload: TableSpec
    renamed: tuple[tuple[str, str], ...] = ()
    """``(view column, rows column)`` pairs for a column the row table names differently."""

    def select_list(self) -> list[str]:
        renamed = dict(self.renamed)
        out = [f"{self.rows_alias}.source"]
        for name in self.view.schema.names:
            if name in renamed:
                out.append(f"{self.rows_alias}.{renamed[name]} AS {name}")
            elif name in self.rows.schema.names:
                out.append(f"{self.rows_alias}.{name}")
            elif name in self.payload.schema.names:
                out.append(f"{self.payload_alias}.{name}")
            else:
                raise ValueError(f"{self.view.name}.{name} is in neither {self.rows.name} nor {self.payload.name}")
        return out


VIEWS: tuple[ViewColumns, ...] = (
    ViewColumns(RAW_ASSISTANTS, "m", SNAPSHOT_MEMBERS, "p", PAYLOADS),
    ViewColumns(ASSISTANTS, "m", SNAPSHOT_MEMBERS, "p", PAYLOADS, renamed=(("snapshot_at", "fetched_at"),)),
    ViewColumns(ASSISTANT_TOOLS, "m", SNAPSHOT_MEMBERS, "t", PAYLOAD_TOOLS),
    ViewColumns(ASSISTANT_METADATA, "m", SNAPSHOT_MEMBERS, "d", PAYLOAD_METADATA),
    ViewColumns(ASSISTANT_TOOL_RESOURCES, "m", SNAPSHOT_MEMBERS, "r", PAYLOAD_TOOL_RESOURCES),
    ViewColumns(ASSISTANT_HISTORY, "v", ASSISTANT_VERSIONS, "p", PAYLOADS),
)
"""Every view over the stored tables that lists columns (``payload_home`` lists its own three)."""

_SELECT = re.compile(r"^SELECT .*?(?=^FROM )", re.MULTILINE | re.DOTALL)


def select_clause(view: ViewColumns) -> str:
    """``SELECT`` and the view's columns, wrapped at :data:`WIDTH` with continuation lines under the first column."""
    lines: list[str] = []
    line = "SELECT"
    for i, column in enumerate(view.select_list()):
        item = f"{column}," if i < len(view.view.schema.names) else column
        if len(line) + 1 + len(item) > WIDTH:
            lines.append(line)
            line = " " * len("SELECT")
        line = f"{line} {item}"
    return "\n".join([*lines, line]) + "\n"


def generated(view: ViewColumns, text: str) -> str:
    """``text`` (a view's file) with its ``SELECT`` list replaced by the generated one."""
    if not _SELECT.search(text):
        raise ValueError(f"sql/stored/{view.view.name}.sql has no SELECT ... FROM to replace")
    return _SELECT.sub(lambda _: select_clause(view), text, count=1)


def main() -> int:
    """Rewrite each view file's column list; print the files that changed."""
    for view in VIEWS:
        path = STORED_SQL / f"{view.view.name}.sql"
        text = path.read_text(encoding="utf-8")
        new = generated(view, text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            print(f"rewrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
