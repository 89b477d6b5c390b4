"""Failure notifications: the log line is always written; the webhook never leaks its URL."""

from __future__ import annotations

from datetime import datetime

from orchestration.defs.notifications import failure_line, notify_failure


def test_failure_line_is_one_clear_line():
    line = failure_line("scrape", "abc123", "boom\n  at line 3", at=datetime(2026, 11, 23, 0, 30))
    assert line == "2026-11-23 00:30:00 UTC  run abc123 of job scrape FAILED: boom at line 3"


def test_unreachable_webhook_still_logs_and_hides_the_url(tmp_path):
    log = tmp_path / "logs" / "failures.log"
    secret_url = "http://127.0.0.1:9/hook?token=s3cret"  # port 9 (discard): connection refused
    problem = notify_failure(job_name="scrape", run_id="r1", message="bad", log_path=log, webhook_url=secret_url)
    assert problem is not None and "s3cret" not in problem and "127.0.0.1" not in problem
    assert "run r1 of job scrape FAILED: bad" in log.read_text()
    assert notify_failure(job_name="scrape", run_id="r2", message="x", log_path=log) is None
    assert len(log.read_text().splitlines()) == 2
