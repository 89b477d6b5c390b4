"""viewtrail: self-hosted tracker of social-video performance.

The package is split so that the domain stays free of Dagster:

- ``orchestration.urls``, ``orchestration.models``, ``orchestration.config``: pure domain.
- ``orchestration.warehouse``: DuckDB I/O (registry, snapshots, attempts, migrations).
- ``orchestration.platforms``: platform clients (real over httpx, and the simulated platform).
- ``orchestration.cli``: the ``viewtrail`` command line.
- ``orchestration.defs``: the only place that imports Dagster; ``orchestration.definitions`` assembles it.
"""

__version__ = "0.1.0"
