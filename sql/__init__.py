"""Every SQL statement the code runs, one job per file, loaded by name.

Values are always bound as parameters (``$name`` or ``?``). The only text ever
substituted into a statement is an identifier (a table or column name) from
the project's own schemas, checked against a strict pattern and quoted, via
:func:`render`. User data never reaches SQL text.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@cache
def load(name: str) -> str:
    """The text of ``sql/<name>.sql`` (``name`` may contain folders: ``warehouse/delete_date``)."""
    path = resources.files(__package__).joinpath(f"{name}.sql")
    return path.read_text(encoding="utf-8")


def quote_identifier(name: str) -> str:
    """``name`` double-quoted, after checking it is a plain lower-case identifier."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return f'"{name}"'


def render(name: str, **identifiers: str) -> str:
    """Load a statement and fill its ``{placeholders}`` with quoted identifiers."""
    return load(name).format(**{k: quote_identifier(v) for k, v in identifiers.items()})
