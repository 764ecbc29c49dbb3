"""Dagster wiring for the connector: assets, resources, partitions, and the CLI.

Importing it gives Arrow the system allocator (unless ``ARROW_DEFAULT_MEMORY_POOL`` says otherwise): the
steps read and free a batch at a time, and the default pool kept the freed blocks, so a night's peak RSS at
20,000 assistants was about 55 MB higher (benchmarks/README.md). The connector's library code leaves the
choice to its caller. The choice is made through that variable, which Arrow reads when it first allocates, so
importing this package does not import pyarrow (a command such as ``--help`` starts without it); when pyarrow
is imported already, its pool is set directly.
"""

import os
import sys

if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
    os.environ["ARROW_DEFAULT_MEMORY_POOL"] = "system"
    if "pyarrow" in sys.modules:
        import pyarrow as pa

        pa.set_memory_pool(pa.system_memory_pool())
