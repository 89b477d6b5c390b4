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


def test_any_alert_channel_url_receives_run_failures(tmp_path):
    log = tmp_path / "logs" / "failures.log"
    channel_file = tmp_path / "failures.jsonl"
    problem = notify_failure(
        job_name="scrape", run_id="r3", message="step\nfailed", log_path=log, webhook_url=f"file://{channel_file}"
    )
    assert problem is None
    (line,) = channel_file.read_text().splitlines()
    assert "run r3 of job scrape failed" in line and "step failed" in line


def test_a_dead_channel_is_reported_without_its_secret(tmp_path):
    log = tmp_path / "logs" / "failures.log"
    secret = "json://127.0.0.1:9/hook?token=s3cret"  # Apprise's JSON webhook to a closed port
    problem = notify_failure(job_name="scrape", run_id="r4", message="bad", log_path=log, webhook_url=secret)
    assert problem is not None and problem.startswith("run-failure channel:") and "s3cret" not in problem
    assert "run r4 of job scrape FAILED: bad" in log.read_text()  # the log line is written whatever happens
