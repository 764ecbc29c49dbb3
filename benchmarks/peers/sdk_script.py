"""What a user writes instead of this project: the official ``openai`` SDK, pandas and DuckDB.

    python sdk_script.py BASE_URL IDS_FILE OUT_FOLDER [CONCURRENCY]

Retrieve every assistant in IDS_FILE (one ID a line), flatten the objects with
``pandas.json_normalize``, write them to Parquet and load them into DuckDB.
``AsyncOpenAI`` with a semaphore, so that as many requests are in flight as the
pipeline and the floor allow (8 by default), and 5 retries (6 attempts), as the
pipeline makes. Runs in its own environment (benchmarks/requirements-peers.txt),
never in the project's; ``benchmarks/peers/measure.py`` times :func:`main`.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import duckdb
import openai
import pandas as pd

API_KEY = "sk-bench-not-a-secret-0000"


async def retrieve_all(base_url: str, ids: list[str], concurrency: int) -> list[dict]:
    client = openai.AsyncOpenAI(base_url=base_url, api_key=API_KEY, max_retries=5, timeout=60)
    semaphore = asyncio.Semaphore(concurrency)

    async def retrieve(assistant_id: str) -> dict:
        async with semaphore:
            assistant = await client.beta.assistants.retrieve(assistant_id)
        return assistant.to_dict()

    async with client:
        return await asyncio.gather(*(retrieve(assistant_id) for assistant_id in ids))


def main(base_url: str, ids_file: str, out: str, concurrency: int = 8) -> int:
    ids = Path(ids_file).read_text().split()
    assistants = asyncio.run(retrieve_all(base_url, ids, concurrency))
    df = pd.json_normalize(assistants)
    Path(out).mkdir(parents=True, exist_ok=True)
    df.to_parquet(Path(out) / "assistants.parquet")
    with duckdb.connect(str(Path(out) / "assistants.duckdb")) as db:
        db.execute("CREATE TABLE assistants AS SELECT * FROM df")
        return int(db.execute("SELECT count(*) FROM assistants").fetchall()[0][0])


if __name__ == "__main__":
    base_url, ids_file, out, *concurrency = sys.argv[1:]
    print(main(base_url, ids_file, out, *(int(value) for value in concurrency)), "assistants loaded")
