"""viewtrail's HTTP API (``viewtrail serve``) and MCP server (``viewtrail mcp``).

- :mod:`.settings`: the API's view of the settings (``VIEWTRAIL_API_RATE_PER_MIN``...) and where its store lives;
- :mod:`.store`: a small SQLite database beside the warehouse holding API keys (hashes only), idempotency
  records and the write-through registry overlay; it never touches DuckDB, so authenticating a request never
  waits for the warehouse lock, and it is shared by every worker process and survives restarts;
- :mod:`.service`: the domain layer, free of HTTP: reads from the published analyst copy (plus the overlay),
  writes through :mod:`viewtrail.warehouse.registry` with the CLI's lock wait;
- :mod:`.app`: the FastAPI application factory; :mod:`.routes` (one router per resource), :mod:`.deps` (the API
  key, scope, rate limit, Idempotency-Key), :mod:`.schemas` (every body), :mod:`.responses` (JSON, ETags,
  problem details) are its parts;
- :mod:`.mcp_server`: the MCP tools over the same service functions.
"""
