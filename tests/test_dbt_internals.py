"""The dagster-dbt, dbt-core and dbt-duckdb internals the in-process dbt step relies on are still what it expects.

Each internal in ``orchestration/defs/dbt_internals.py`` has a probe; after an upgrade, a failing test here names
the internal that changed (its test id and message), before a dbt build fails in a less telling way. Until it is
adapted, ``VIEWTRAIL_DBT_RUNNER=cli`` builds with dagster-dbt's public subprocess runner.
"""

from __future__ import annotations

import pytest

from orchestration.defs import dbt, dbt_internals
from viewtrail import config


@pytest.mark.parametrize("internal", sorted(dbt_internals.INTERNALS))
def test_internal_is_what_the_in_process_dbt_step_expects(internal: str) -> None:
    try:
        dbt_internals.INTERNALS[internal]()
    except AssertionError as error:
        pytest.fail(
            f"{internal} changed: {error}. Adapt orchestration/defs/dbt_internals.py, or set "
            f"VIEWTRAIL_DBT_RUNNER=cli meanwhile.",
            pytrace=False,
        )


def test_a_changed_internal_is_named() -> None:
    def takes_other_arguments(manifest, translator):  # what an upgrade might turn a function into
        return None

    with pytest.raises(AssertionError, match=r"no parameter\(s\) \['context'\]"):
        dbt_internals._has_parameters(takes_other_arguments, "context", "manifest")


def test_every_runner_setting_has_a_build() -> None:
    assert set(dbt.BUILD_BY_RUNNER) == set(config.DBT_RUNNERS)
    assert config.DEFAULT_DBT_RUNNER in dbt.BUILD_BY_RUNNER


def test_closing_dbt_duckdb_instance_forgets_it() -> None:
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    class Instance:
        closed = False

        def close(self) -> None:
            self.closed = True

    instance = Instance()
    DuckDBConnectionManager._ENV = instance
    dbt_internals.close_duckdb_instance()
    assert instance.closed and DuckDBConnectionManager._ENV is None
    dbt_internals.close_duckdb_instance()  # nothing open: nothing to do


class _Outcome:
    def __init__(self, success: bool, exception: BaseException | None = None) -> None:
        self.success, self.exception = success, exception


def _refuse_close() -> None:
    import duckdb

    raise duckdb.ConnectionException("Connection Error: connection is busy with another call")


def test_an_interruption_during_dbt_is_what_propagates_when_the_close_is_refused(monkeypatch, tmp_path) -> None:
    def interrupted(args, on_event=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(dbt_internals, "run_dbt", interrupted)
    monkeypatch.setattr(dbt_internals, "close_duckdb_instance", _refuse_close)
    with pytest.raises(KeyboardInterrupt):
        dbt.invoke_dbt(["build"], warehouse_path=tmp_path / "w.duckdb", target_path=tmp_path)


def test_dbt_s_own_failure_is_returned_when_the_close_is_refused(monkeypatch, tmp_path, caplog) -> None:
    from dagster import DagsterExecutionInterruptedError

    stopped = _Outcome(False, DagsterExecutionInterruptedError())  # dbt's runner returns what stopped it
    monkeypatch.setattr(dbt_internals, "run_dbt", lambda args, on_event=None: stopped)
    monkeypatch.setattr(dbt_internals, "close_duckdb_instance", _refuse_close)
    with caplog.at_level("WARNING"):
        assert dbt.invoke_dbt(["build"], warehouse_path=tmp_path / "w.duckdb", target_path=tmp_path) is stopped
    (line,) = [r.getMessage() for r in caplog.records if "could not be closed" in r.getMessage()]
    assert "connection is busy" in line and "\n" not in line


def test_a_refused_close_after_a_successful_dbt_command_is_raised(monkeypatch, tmp_path) -> None:
    import duckdb

    monkeypatch.setattr(dbt_internals, "run_dbt", lambda args, on_event=None: _Outcome(True))
    monkeypatch.setattr(dbt_internals, "close_duckdb_instance", _refuse_close)
    with pytest.raises(duckdb.ConnectionException, match="busy"):
        dbt.invoke_dbt(["build"], warehouse_path=tmp_path / "w.duckdb", target_path=tmp_path)
