"""A warehouse of several nights of the sandbox's evolving catalogue, built as nightly runs build it.

IDs mode, as ``make demo``: each night asks for every ID seen so far (so a deleted assistant is a confirmed
``not_found``), plus an unknown ID and a malformed one, so the fetch errors have rows too.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from assistants_export.connectors.history import rebuild_history
from assistants_export.connectors.openai_assistants.config import ClientConfig, Secret
from assistants_export.connectors.snapshot import IdSource, fetch_snapshot, flatten_snapshot, load_duckdb
from assistants_export.sandbox import EvolvingCatalog, SandboxServer

KEY = "sk-sandbox-evolving"
START = dt.date(2026, 3, 1)
EXTRA_IDS = ("asst_never_existed_000000000000", "not an id")


def evolving_nights(root: Path | str, n: int = 40, nights: int = 4, change_rate: float = 0.3, *, seed: int = 5,
                    start: dt.date = START) -> EvolvingCatalog:
    """``nights`` nights from ``start`` of ``n`` assistants changing at ``change_rate`` into the warehouse ``root``."""
    catalog = EvolvingCatalog(n, change_rate, seed=seed, start=start, deletion_rate=0.05, creation_rate=0.05)
    asked: list[str] = []
    with SandboxServer(catalog, api_key=KEY) as server:
        config = ClientConfig(api_key=Secret(KEY), base_url=server.base_url)
        for night in range(nights):
            day = start + dt.timedelta(days=night)
            catalog.set_night(night)
            asked = list(dict.fromkeys([*asked, *catalog.live(night)]))
            fetch_snapshot(config, IdSource(ids=(*asked, *EXTRA_IDS)), day, root)
            flatten_snapshot(day, root)
            load_duckdb(day, root)
            rebuild_history(root, day)
    return catalog
