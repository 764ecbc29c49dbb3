"""``assistants-export views``: the bundled views, one line each.

A module of its own, so that listing the views imports neither DuckDB nor pyarrow: the list is the files of
``sql/views/`` (:func:`assistants_export.connectors.warehouse.views.views`), the same in every warehouse.
"""

from __future__ import annotations

import click

from assistants_export.connectors.warehouse.views import VIEW_NAMES, views

from . import cli, warehouse_option


@cli.command("views")
@warehouse_option
def list_views(warehouse: str | None) -> None:
    """List the bundled views, one line each (the same views in every warehouse)."""
    width = max(len(name) for name in VIEW_NAMES)
    for view in views():
        click.echo(f"{view.name.ljust(width)}  {view.summary}")
