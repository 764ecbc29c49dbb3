"""Build a warehouse the way a nightly run does: fetch over loopback HTTP, flatten, load, replay the history."""

from assistants_export.connectors.history import rebuild_history
from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret
from assistants_export.connectors.snapshot import IdSource, fetch_snapshot, flatten_snapshot, load_duckdb
from assistants_export.sandbox import SandboxServer, StaticCatalog


def snapshot_days(root, key, ids, catalogs, source_name="default"):
    """One night per ``{date: assistant bodies}`` of the source ``source_name``, each served by its own sandbox,
    asking for ``ids``."""
    for day, catalog in catalogs.items():
        with SandboxServer(StaticCatalog(catalog), api_key=key) as srv:
            fetch_snapshot(ClientConfig(api_key=Secret(key), base_url=srv.base_url), IdSource(ids=tuple(ids)), day,
                           root, source_name=source_name)
        flatten_snapshot(day, root, source_name=source_name)
        load_duckdb(day, root, source_name=source_name)
        rebuild_history(root, day, source_name=source_name)
    return root
