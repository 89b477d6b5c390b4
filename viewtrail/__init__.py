"""viewtrail: a self-hosted tracker of social-video performance.

The product: the domain (``domain``), settings and the clock, the platforms' clients (``platforms``), the
DuckDB warehouse (``warehouse``), the planners (``planning``), the pipeline's durable steps (``pipeline``),
alerts, the use cases (``app``) and the interfaces that call them (``cli``, ``api``). Dagster lives in the
``orchestration`` package, which imports this one and is never imported by it."""
