"""Keeping the overview ready: ``viewtrail serve`` computes the default overview's aggregates in the background
whenever a build publishes a new analyst copy (and every hour), so the first visit after a build answers as fast
as the next one instead of scanning every video's days while someone waits."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Hashable

from viewtrail.api.service import Service
from viewtrail.clock import utc_now

from .common import copy_version, period

log = logging.getLogger("viewtrail.dashboard")
POLL_S = 30.0


def keep_warm(svc: Service, *, poll_s: float = POLL_S) -> threading.Thread:
    """Start the daemon thread (it ends with the process)."""

    def loop() -> None:
        from .videos import overview_data

        seen: tuple[Hashable, ...] | None = None
        while True:
            current = (copy_version(svc), utc_now().replace(minute=0, second=0, microsecond=0))
            if current != seen:
                try:
                    overview_data(svc, period(None, None, None))
                except Exception:  # a failed warm-up costs the next visitor time, nothing else: logged, not raised
                    log.exception("could not prepare the overview ahead of the first visit")
                seen = current
            time.sleep(poll_s)  # not Event.wait: a timed wait may never return under a shifted clock

    thread = threading.Thread(target=loop, name="viewtrail-dashboard-warm", daemon=True)
    thread.start()
    return thread
