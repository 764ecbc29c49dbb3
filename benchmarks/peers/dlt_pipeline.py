"""What a user writes with dlt instead of this project: its REST API source into DuckDB, history kept as SCD2.

    python dlt_pipeline.py BASE_URL IDS_FILE OUT_FOLDER [CONCURRENCY]

One ``GET /assistants/{id}`` per ID in IDS_FILE through dlt's ``rest_api_source``,
the IDs coming from a plain resource; the child resource is parallelized over
CONCURRENCY threads (dlt's ``extract.workers``, 8 like the pipeline). dlt infers
the schema, unnests the tools into child tables and merges into DuckDB with the
``scd2`` strategy, so a second run records what changed. Runs in its own
environment (benchmarks/requirements-peers.txt), never in the project's;
``benchmarks/peers/measure.py`` times :func:`main`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import dlt
from dlt.sources.rest_api import rest_api_source

API_KEY = "sk-bench-not-a-secret-0000"


def main(base_url: str, ids_file: str, out: str, concurrency: int = 8) -> int:
    ids = Path(ids_file).read_text().split()
    dlt.config["extract.workers"] = concurrency

    @dlt.resource(selected=False)
    def assistant_ids():
        yield [{"id": assistant_id} for assistant_id in ids]

    source = rest_api_source({
        "client": {
            "base_url": base_url.rstrip("/") + "/",
            "auth": {"type": "bearer", "token": API_KEY},
            "headers": {"OpenAI-Beta": "assistants=v2"},
            "paginator": "single_page",
        },
        "resources": [
            assistant_ids,
            {
                "name": "assistants",
                "endpoint": {
                    "path": "assistants/{id}",
                    "params": {"id": {"type": "resolve", "resource": "assistant_ids", "field": "id"}},
                },
                "primary_key": "id",
                "write_disposition": {"disposition": "merge", "strategy": "scd2"},
                "parallelized": True,
            },
        ],
    })
    pipeline = dlt.pipeline(
        pipeline_name="assistants",
        destination=dlt.destinations.duckdb(str(Path(out) / "assistants.duckdb")),
        dataset_name="openai",
        pipelines_dir=str(Path(out) / "dlt"),
    )
    pipeline.run(source)
    with pipeline.sql_client() as client:
        return int(client.execute_sql("SELECT count(*) FROM assistants WHERE _dlt_valid_to IS NULL")[0][0])


if __name__ == "__main__":
    base_url, ids_file, out, *concurrency = sys.argv[1:]
    print(main(base_url, ids_file, out, *(int(value) for value in concurrency)), "assistants loaded")
