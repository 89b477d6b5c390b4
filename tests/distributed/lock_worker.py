"""One process of the writer-lock contention test: waits for a shared start instant, then makes ``count`` writes
to its own warehouse file, each through ``open_warehouse`` (which takes the writer lock when it is configured) and
``run_write`` (which records the write's interval in ``meta.write_log``), holding each write a few milliseconds.

Usage: python lock_worker.py WAREHOUSE START_EPOCH COUNT HOLD_S"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from viewtrail.warehouse.connection import open_warehouse
from viewtrail.warehouse.transactions import run_write


def main() -> None:
    warehouse, start, count, hold = Path(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    with open_warehouse(warehouse):
        pass  # create and migrate the file before the start, so every write is alike
    time.sleep(max(0.0, start - time.time()))
    for _ in range(count):
        with open_warehouse(warehouse, run_id="contention") as con:
            run_write(con, lambda write: time.sleep(hold), kind="lock-test")


if __name__ == "__main__":
    main()
