"""Read an IDs file the way a snapshot does, then print the peak RSS: ``python tests/support/ids_file_rss.py FILE``.

Prints one JSON line: the high-water mark of the resident set (``VmHWM``, KiB) once the modules are imported
and after every ID of the file went through ``read_ids_file`` and ``clean_ids`` (or the file was refused), the
number of IDs accepted, and the refusal's message if there was one. Used by
``tests/reliability/test_resource_bounds.py``.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the tree this file belongs to, not an install

from assistants_export.connectors.core.errors import InputError
from assistants_export.connectors.openai_assistants.ids import IdStats, clean_ids, read_ids_file


def peak_rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def main(path: str) -> None:
    imported = peak_rss_kib()
    stats = IdStats()
    error = None
    try:
        for _ in clean_ids(read_ids_file(path), stats):
            pass
    except InputError as exc:
        error = str(exc)
    print(json.dumps({"imported": imported, "read": peak_rss_kib(), "accepted": stats.accepted,
                      "duplicates": stats.duplicates, "error": error}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
