"""The orchestrator as the product sees it: launch the pipeline's runs from a process (the CLI, the demo).

viewtrail never imports the orchestrator: the Dagster code location (the ``orchestration`` package) registers its
implementation under the ``viewtrail.orchestrator`` entry point, so the CLI starts without Dagster and only a
command that runs the pipeline loads it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from importlib.metadata import entry_points
from typing import Any, Protocol

from viewtrail.domain.errors import ViewtrailError

Progress = Callable[[str], None]

#: The entry-point group an orchestrator registers under, and the name of the one viewtrail ships.
ENTRY_POINT_GROUP = "viewtrail.orchestrator"
DEFAULT_ORCHESTRATOR = "dagster"


class OrchestratorMissingError(ViewtrailError):
    """No orchestrator is installed (viewtrail was installed without its ``orchestration`` package)."""


class Orchestrator(Protocol):
    """What the product asks of the pipeline's runner; a context manager holding its instance."""

    def __enter__(self) -> Orchestrator: ...

    def __exit__(self, *exc: object) -> None: ...

    def backfill_discovery(
        self,
        first_hour: datetime,
        last_hour: datetime,
        progress: Progress,
        *,
        origin: str = ...,
        platforms: Iterable[str] | None = ...,
    ) -> dict[str, dict[str, Any]]:
        """Discover the watched accounts for every hour of [first_hour, last_hour], in one run for every platform."""

    def backfill_snapshots(
        self,
        first_hour: datetime,
        last_hour: datetime,
        progress: Progress,
        *,
        origin: str = ...,
        platforms: Iterable[str] | None = ...,
    ) -> dict[str, dict[str, Any]]:
        """Scrape and load the tracked videos for every hour of [first_hour, last_hour], in one run for every
        platform."""

    def build_and_publish(self, progress: Progress | None = None, *, full_refresh: bool = ...) -> str:
        """dbt build, the analyst copy and the alert rules as one run; returns the run's id. ``full_refresh``:
        every incremental model rebuilt from scratch."""

    def report_inline_snapshots(self, platforms: Iterable[str], *, reason: str = ...) -> bool:
        """Tell the orchestrator that snapshots were written outside a run; False when there is none to tell."""


@contextmanager
def open_orchestrator(*, simulated: bool = False) -> Iterator[Orchestrator]:
    """The installed orchestrator, entered: runs it launches use the settings now (``simulated``: the simulated
    platform for every platform, as the demo does)."""
    found = entry_points(group=ENTRY_POINT_GROUP, name=DEFAULT_ORCHESTRATOR)
    if not found:
        raise OrchestratorMissingError(
            "The pipeline's orchestrator is not installed (no 'viewtrail.orchestrator' entry point); reinstall "
            "viewtrail from its checkout (pip install -e .) so its orchestration package is registered."
        )
    factory = next(iter(found)).load()
    with factory(simulated=simulated) as orchestrator:
        yield orchestrator
