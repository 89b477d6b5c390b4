"""Loaded at start-up by the Python processes of a worker whose PYTHONPATH starts with this directory (the
distributed tests' "stalled" workers): makes the step stop for good at one point, so a test can SIGKILL the
worker there. ``VT_TEST_STALL`` says where:

- ``scrape``: after the scrape step scraped, before it staged anything;
- ``write``: inside the load's write transaction, after its last statement, before COMMIT.

The worker prints ``STALLED <where>`` (to its log) when it gets there."""

import os

_where = os.environ.get("VT_TEST_STALL")

if _where:
    import sys
    import time

    def _stall() -> None:
        print(f"STALLED {_where}", flush=True)
        sys.stderr.flush()
        time.sleep(3600)

    if _where == "scrape":
        import orchestration.defs.assets as _assets

        _execute = _assets.execute_plan

        def _scrape_then_stall(*args, **kwargs):
            outcome = _execute(*args, **kwargs)
            _stall()
            return outcome

        _assets.execute_plan = _scrape_then_stall
    elif _where == "write":
        import viewtrail.warehouse.transactions as _transactions

        _log_write = _transactions._log_write

        def _log_then_stall(con, write):
            _log_write(con, write)
            _stall()

        _transactions._log_write = _log_then_stall
