"""The web dashboard: server-rendered pages served by ``viewtrail serve`` beside the HTTP API.

Pages read the published analyst copy through :mod:`viewtrail.warehouse.marts` (the one mart reader) and the API's
service, and write through the same use cases as the CLI and the API; see docs/dashboard.md.
"""
