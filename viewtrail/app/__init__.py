"""The use cases the CLI, the HTTP API, the MCP server and the dashboard call."""
