"""`viewtrail api-key create|list|revoke`, `serve --help`, `mcp --help`."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from viewtrail.api.store import Store, hash_key
from viewtrail.cli import app

runner = CliRunner()


def test_api_key_create_list_revoke(warehouse_path):
    created = runner.invoke(app, ["api-key", "create", "--name", "dash"])
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    assert key.startswith("vt_") and len(key) > 40
    made = runner.invoke(app, ["api-key", "create", "--name", "bot", "--scope", "write", "--json"])
    record = json.loads(made.output)
    assert set(record) == {"key", "id", "scope"} and record["scope"] == "write"
    listed = runner.invoke(app, ["api-key", "list", "--json"])
    rows = json.loads(listed.output)
    assert [(r["name"], r["scope"], r["revoked_at"]) for r in rows] == [("dash", "read", None), ("bot", "write", None)]
    table = runner.invoke(app, ["api-key", "list"]).output
    assert key not in listed.output + table and record["key"] not in listed.output + table
    store_file = warehouse_path.parent / "api.sqlite3"
    assert key.encode() not in store_file.read_bytes() and hash_key(key).encode() in store_file.read_bytes()
    revoked = runner.invoke(app, ["api-key", "revoke", record["id"]])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert Store(store_file).authenticate(record["key"]).revoked_at is not None
    unknown = runner.invoke(app, ["api-key", "revoke", "key_nope"])
    assert unknown.exit_code == 1 and "no API key" in unknown.output and "Traceback" not in unknown.output
    bad = runner.invoke(app, ["api-key", "create", "--name", "x", "--scope", "root"])
    assert bad.exit_code == 1 and "read, write, admin" in bad.output


def test_serve_and_mcp_have_help_with_examples():
    for command in (["serve", "--help"], ["mcp", "--help"], ["api-key", "--help"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, result.output
    assert "--port" in runner.invoke(app, ["serve", "--help"]).output
