"""The settings object: every variable read and validated in one place, re-read when the environment changes,
one sentence per bad value; nothing reads the environment at import, and the code location loads lazily."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from viewtrail import config
from viewtrail.config import Settings, SettingsError
from viewtrail.domain.cadence import DEFAULT_AUTO_CADENCE
from viewtrail.domain.errors import InvalidInputError, ViewtrailError
from viewtrail.domain.models import Platform

REPO = Path(__file__).resolve().parents[1]


def parse(**environ: str) -> Settings:
    return Settings.from_environ(environ, cwd="/srv/vt")


def test_defaults_need_no_variable():
    s = parse()
    assert s.data_dir == Path("/srv/vt/data")
    assert s.warehouse_path == Path("/srv/vt/data/warehouse.duckdb")
    assert s.analytics_path == Path("/srv/vt/data/analytics.duckdb")
    assert (s.marts_export_dir, s.queue_dir) == (Path("/srv/vt/data/marts"), Path("/srv/vt/data/queue"))
    assert s.offline is False and s.now is None and s.webhook_url is None
    assert s.lock_timeout_s == config.DEFAULT_LOCK_TIMEOUT_S == 120.0
    assert s.auto_cadence == DEFAULT_AUTO_CADENCE and s.min_success_share == 0.9 and s.api_rate_per_min == 600
    assert s.dbt_runner == "inprocess"
    assert (s.retry_base_minutes, s.retry_cap_minutes, s.momentum_factor, s.momentum_min_views_per_hour) == (
        60.0,
        1440.0,
        3.0,
        100.0,
    )
    assert [p.platform for p in s.platforms] == list(Platform)
    assert all(p.mode == "simulated" and p.client_overrides() == {} for p in s.platforms)


def test_every_variable_is_read():
    s = parse(
        VIEWTRAIL_DATA_DIR="d",
        VIEWTRAIL_WAREHOUSE="/w/live.duckdb",
        VIEWTRAIL_ANALYTICS="copy.duckdb",
        VIEWTRAIL_OFFLINE=" Yes ",
        VIEWTRAIL_LOCK_TIMEOUT_S="0",
        VIEWTRAIL_NOW="2027-01-15T12:00:00+01:00",
        VIEWTRAIL_AUTO_CADENCE="24:1,*:12",
        VIEWTRAIL_MIN_SUCCESS_SHARE="0.5",
        VIEWTRAIL_DBT_RUNNER="CLI",
        VIEWTRAIL_RETRY_BASE_MINUTES="30",
        VIEWTRAIL_RETRY_CAP_MINUTES="600",
        VIEWTRAIL_MOMENTUM_FACTOR="5",
        VIEWTRAIL_MOMENTUM_MIN_VIEWS_PER_HOUR="7.5",
        VIEWTRAIL_WEBHOOK_URL="https://hooks.example.com/x?token=secret",
        VIEWTRAIL_API_RATE_PER_MIN="60",
        VIEWTRAIL_X_MODE="REAL",
        VIEWTRAIL_X_BASE_URL="http://127.0.0.1:8765/x/",
        VIEWTRAIL_X_CONCURRENCY="16",
        VIEWTRAIL_X_RATE_PER_MIN="6000",
        VIEWTRAIL_X_TIMEOUT_S="2.5",
        VIEWTRAIL_X_MAX_RETRIES="0",
        VIEWTRAIL_YOUTUBE_DAILY_UNITS="500",
        YOUTUBE_API_KEY=" AIzaKey ",
        INSTAGRAM_SESSIONID="sess",
        VIEWTRAIL_X_PROXIES="http://u:p@10.0.0.1:3128, http://10.0.0.2:3128/",
        VIEWTRAIL_TIKTOK_PROXIES="http://t:1",
        VIEWTRAIL_YOUTUBE_PROXIES="https://y:443",
        VIEWTRAIL_INSTAGRAM_PROXIES="http://i:8080",
        VIEWTRAIL_WRITER_LOCK_URL="postgresql+psycopg2://vt:pw@db.internal:5432/viewtrail",
        VIEWTRAIL_STAGING_URL="s3://vt-staging/batches/",
        VIEWTRAIL_CELERY_BROKER="amqp://vt:pw@mq:5672/vt",
        VIEWTRAIL_CELERY_BACKEND="redis://cache:6379/1",
    )
    assert s.celery_broker == "amqp://vt:pw@mq:5672/vt" and s.celery_result_backend == "redis://cache:6379/1"
    assert s.writer_lock_url == "postgresql+psycopg2://vt:pw@db.internal:5432/viewtrail"
    assert s.staging_url == "s3://vt-staging/batches"
    assert (s.data_dir, s.warehouse_path, s.analytics_path) == (
        Path("/srv/vt/d"),
        Path("/w/live.duckdb"),
        Path("/srv/vt/copy.duckdb"),
    )
    assert s.offline is True and s.lock_timeout_s == 0.0 and s.now == datetime(2027, 1, 15, 11)
    assert s.auto_cadence == ((24.0, 1), (None, 12)) and s.min_success_share == 0.5 and s.dbt_runner == "cli"
    assert (s.retry_base_minutes, s.retry_cap_minutes, s.momentum_factor, s.momentum_min_views_per_hour) == (
        30.0,
        600.0,
        5.0,
        7.5,
    )
    assert s.webhook_url == "https://hooks.example.com/x?token=secret" and s.api_rate_per_min == 60
    assert s.platform("x").mode == "real"
    assert s.platform(Platform.X).client_overrides() == {
        "base_url": "http://127.0.0.1:8765/x",
        "concurrency": 16,
        "rate_per_min": 6000.0,
        "timeout_s": 2.5,
        "max_retries": 0,
        "proxies": ("http://u:p@10.0.0.1:3128", "http://10.0.0.2:3128"),
    }
    assert s.platform("youtube").client_overrides() == {
        "daily_units": 500,
        "api_key": "AIzaKey",
        "proxies": ("https://y:443",),
    }
    assert s.platform("instagram").client_overrides() == {"session_id": "sess", "proxies": ("http://i:8080",)}
    assert s.platform("tiktok").client_overrides() == {"proxies": ("http://t:1",)}  # secrets go to their own platform
    assert all(s.is_set(name) for name in config.SECRET_VARIABLES)


def test_secrets_stay_out_of_repr():
    s = parse(
        YOUTUBE_API_KEY="AIzaPLANTED",
        INSTAGRAM_SESSIONID="PLANTEDsess",
        VIEWTRAIL_WEBHOOK_URL="https://hooks.example.com/PLANTEDtoken",
        VIEWTRAIL_TIKTOK_PROXIES="http://user:PLANTEDpass@proxy.example:3128",
    )
    assert "PLANTED" not in repr(s)


@pytest.mark.parametrize(
    "value",
    [
        "user:PLANTEDpass@proxy.example:3128",  # no scheme
        "http://user:PLANTEDpass@proxy.example",  # no port
        "socks9://user:PLANTEDpass@proxy.example:1080",
        "http://user:PLANTEDpass@proxy.example:3128,",  # an empty item
        "http://user:PLANTEDpass@proxy.example:99999",
        "http://user:PLANTEDpass@proxy.example:3128/path",
    ],
)
def test_a_bad_proxy_list_is_one_sentence_without_the_password(value):
    with pytest.raises(SettingsError) as caught:
        parse(VIEWTRAIL_TIKTOK_PROXIES=value)
    message = str(caught.value)
    assert message.startswith("VIEWTRAIL_TIKTOK_PROXIES item ") and "http://[user:pass@]host:port" in message
    assert "PLANTED" not in message and "proxy.example" not in message and message.count(". ") == 0


@pytest.mark.parametrize(
    ("variable", "value", "sentence"),
    [
        ("VIEWTRAIL_OFFLINE", "maybe", "is not a yes/no value"),
        ("VIEWTRAIL_LOCK_TIMEOUT_S", "soon", "is not a number of seconds"),
        ("VIEWTRAIL_LOCK_TIMEOUT_S", "nan", "is not a number of seconds"),
        ("VIEWTRAIL_LOCK_TIMEOUT_S", "-1", "is negative"),
        ("VIEWTRAIL_NOW", "yesterday", "is not an ISO date or instant"),
        ("VIEWTRAIL_AUTO_CADENCE", "24:1", "must list increasing ages"),
        ("VIEWTRAIL_MIN_SUCCESS_SHARE", "1.5", "between 0 and 1"),
        ("VIEWTRAIL_DBT_RUNNER", "subprocess", "must be one of inprocess, cli"),
        ("VIEWTRAIL_RETRY_BASE_MINUTES", "0", "must be a positive number"),
        ("VIEWTRAIL_RETRY_CAP_MINUTES", "inf", "must be a positive number"),
        ("VIEWTRAIL_MOMENTUM_FACTOR", "fast", "must be a positive number"),
        ("VIEWTRAIL_MOMENTUM_MIN_VIEWS_PER_HOUR", "-3", "must be a positive number"),
        ("VIEWTRAIL_API_RATE_PER_MIN", "1.5", "must be a whole number of requests per minute"),
        ("VIEWTRAIL_TIMEZONE", "Mars/Olympus", "is not an IANA time zone"),
        ("VIEWTRAIL_TIMEZONE", "../etc", "is not an IANA time zone"),
        ("VIEWTRAIL_TIKTOK_MODE", "live", "is not a client mode"),
        ("VIEWTRAIL_YOUTUBE_CONCURRENCY", "1.5", "is not a number"),
        ("VIEWTRAIL_INSTAGRAM_RATE_PER_MIN", "0", "is too small"),
        ("VIEWTRAIL_X_TIMEOUT_S", "never", "is not a number"),
        ("VIEWTRAIL_X_MAX_RETRIES", "-1", "is too small"),
        ("VIEWTRAIL_YOUTUBE_DAILY_UNITS", "0", "is too small"),
    ],
)
def test_a_bad_value_is_one_sentence_naming_the_variable(variable, value, sentence):
    with pytest.raises(SettingsError) as info:
        parse(**{variable: value})
    message = str(info.value)
    assert message.startswith(variable) and sentence in message
    assert message.endswith(".") and not re.search(r"[.;!?]\s+[A-Z]", message) and "\n" not in message  # one sentence
    # Callers catch them as user errors (the CLI prints them as they are) or as ValueError (the old contract).
    assert isinstance(info.value, InvalidInputError) and isinstance(info.value, ViewtrailError | ValueError)


def test_a_bad_webhook_url_is_refused_without_echoing_it():
    with pytest.raises(SettingsError, match="VIEWTRAIL_WEBHOOK_URL") as info:
        parse(VIEWTRAIL_WEBHOOK_URL="hooks.example.com/PLANTEDtoken")
    assert "PLANTED" not in str(info.value)


def test_empty_values_mean_unset():
    assert (
        parse(VIEWTRAIL_DATA_DIR=" ", VIEWTRAIL_LOCK_TIMEOUT_S="", VIEWTRAIL_X_MODE="", YOUTUBE_API_KEY=" ") == parse()
    )


def test_settings_follow_the_environment_and_parse_it_once(monkeypatch, tmp_path):
    monkeypatch.setenv("VIEWTRAIL_DATA_DIR", str(tmp_path / "one"))
    first = config.settings()
    assert config.settings() is first  # unchanged environment: the cached object
    assert config.data_dir() == tmp_path / "one"
    monkeypatch.setenv("VIEWTRAIL_DATA_DIR", str(tmp_path / "two"))
    assert config.settings().data_dir == tmp_path / "two" and config.queue_dir() == tmp_path / "two" / "queue"
    monkeypatch.setenv("VIEWTRAIL_MOMENTUM_FACTOR", "fast")
    with pytest.raises(SettingsError, match="VIEWTRAIL_MOMENTUM_FACTOR"):
        config.settings()
    monkeypatch.delenv("VIEWTRAIL_MOMENTUM_FACTOR")
    assert config.settings().momentum_factor == 3.0


def test_relative_paths_resolve_against_the_working_directory(monkeypatch, tmp_path):
    monkeypatch.delenv("VIEWTRAIL_WAREHOUSE", raising=False)
    monkeypatch.setenv("VIEWTRAIL_DATA_DIR", "rel")
    monkeypatch.chdir(tmp_path)
    assert config.warehouse_path() == tmp_path / "rel" / "warehouse.duckdb"


def test_the_lock_wait_is_one_default_for_the_cli_and_the_pipeline(monkeypatch, tmp_path):
    from orchestration.defs.resources import WarehouseResource, warehouse_from_env
    from viewtrail.warehouse.connection import DEFAULT_LOCK_TIMEOUT_S, lock_timeout_from_env

    monkeypatch.delenv("VIEWTRAIL_LOCK_TIMEOUT_S", raising=False)
    bare = WarehouseResource(path=str(tmp_path / "w.duckdb"), analytics_path="a", marts_export_dir="m")
    assert bare.lock_timeout_s == warehouse_from_env().lock_timeout_s == lock_timeout_from_env()
    assert lock_timeout_from_env() == DEFAULT_LOCK_TIMEOUT_S == config.DEFAULT_LOCK_TIMEOUT_S
    monkeypatch.setenv("VIEWTRAIL_LOCK_TIMEOUT_S", "7")
    assert warehouse_from_env().lock_timeout_s == lock_timeout_from_env() == 7.0


def test_the_warehouse_resource_is_a_duckdb_resource_that_migrates_on_open(tmp_path):
    from dagster_duckdb import DuckDBResource

    from orchestration.defs.resources import WarehouseResource
    from viewtrail.warehouse.migrations import LATEST_VERSION, current_version

    resource = WarehouseResource(
        path=str(tmp_path / "w.duckdb"),
        analytics_path=str(tmp_path / "a.duckdb"),
        marts_export_dir=str(tmp_path / "marts"),
        connection_config={"threads": 1},
    )
    assert isinstance(resource, DuckDBResource)
    assert resource.path == resource.database == str(tmp_path / "w.duckdb")
    with resource.get_connection() as con:  # DuckDBResource's API goes through open_warehouse too
        assert current_version(con) == LATEST_VERSION
        assert con.execute("SELECT current_setting('threads')").fetchone() == (1,)
    with resource.connect(read_only=True) as con:
        assert current_version(con) == LATEST_VERSION
    assert WarehouseResource(database=resource.path, analytics_path="a", marts_export_dir="m").path == resource.path


def test_the_resources_come_from_the_settings_with_secrets_as_env_vars(monkeypatch):
    from dagster import EnvVar

    from orchestration.defs.resources import notifier_from_env, platform_clients_from_env, sensor_settings_from_env

    s = parse(
        VIEWTRAIL_TIKTOK_MODE="real",
        VIEWTRAIL_TIKTOK_BASE_URL="http://127.0.0.1:9/tiktok",
        YOUTUBE_API_KEY="AIzaKey",
        VIEWTRAIL_WEBHOOK_URL="https://hooks.example.com/t",
        VIEWTRAIL_RETRY_CAP_MINUTES="90",
    )
    platforms = platform_clients_from_env(s)
    assert (platforms.mode("tiktok"), platforms.base_url("tiktok"), platforms.mode("x")) == (
        "real",
        "http://127.0.0.1:9/tiktok",
        "simulated",
    )
    assert platforms.youtube_api_key == EnvVar("YOUTUBE_API_KEY") and platforms.instagram_sessionid is None
    assert notifier_from_env(s).webhook_url == EnvVar("VIEWTRAIL_WEBHOOK_URL")
    assert notifier_from_env(parse()).webhook_url is None
    knobs = sensor_settings_from_env(s)
    assert (knobs.retry_cap_minutes, knobs.queue_dir) == (90.0, "/srv/vt/data/queue")


def _code_files() -> list[Path]:
    return sorted([*(REPO / "viewtrail").rglob("*.py"), *(REPO / "orchestration").rglob("*.py")])


def test_no_module_but_config_reads_the_environment():
    # defs/dbt.py hands the environment to its `dbt parse` subprocess (profiles.yml reads VIEWTRAIL_WAREHOUSE);
    # runs.py reads DAGSTER_HOME, Dagster's own variable.
    allowed = {"viewtrail/config.py", "orchestration/defs/dbt.py", "orchestration/runs.py"}
    readers = [
        str(path.relative_to(REPO))
        for path in _code_files()
        if re.search(r"os\.environ|os\.getenv|getenv\(", path.read_text())
        and str(path.relative_to(REPO)) not in allowed
    ]
    assert readers == []
    # and nothing changes it: a run worker's threads share one environment (dbt gets vars, subprocesses an env)
    writers = [
        str(path.relative_to(REPO))
        for path in _code_files()
        if re.search(
            r"os\.environ\[[^]]+\]\s*=|os\.environ\.(update|pop|setdefault|clear)\(|os\.putenv", path.read_text()
        )
    ]
    assert writers == []
    runs = (REPO / "orchestration" / "runs.py").read_text()
    assert set(re.findall(r"os\.environ\.get\(\"([A-Z_]+)\"", runs)) <= {"DAGSTER_HOME"}


def test_every_viewtrail_variable_named_in_the_code_is_a_setting():
    named = {m for path in _code_files() for m in re.findall(r"\bVIEWTRAIL_[A-Z0-9_]*[A-Z0-9]\b", path.read_text())}
    assert named - set(config.VARIABLES) == set()


def test_nothing_reads_a_bad_variable_at_import_and_the_load_fails_with_its_sentence(tmp_path):
    script = (
        "import importlib, pkgutil, orchestration, viewtrail\n"
        "for package in (viewtrail, orchestration):\n"
        "    for m in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "from viewtrail.config import SettingsError\n"
        "from orchestration.definitions import defs\n"
        "try:\n"
        "    defs()\n"
        "except SettingsError as error:\n"
        "    print('LOAD FAILED:', error)\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "VIEWTRAIL_DATA_DIR": str(tmp_path),
        "VIEWTRAIL_LOCK_TIMEOUT_S": "soon",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "LOAD FAILED: VIEWTRAIL_LOCK_TIMEOUT_S='soon' is not a number of seconds; set it to e.g. 120 or unset it."
    )


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("VIEWTRAIL_WRITER_LOCK_URL", "mysql://vt:hunter2@db/vt", "is not a PostgreSQL URL"),
        ("VIEWTRAIL_STAGING_URL", "/srv/staging", "is not an s3://bucket/prefix URL"),
        ("VIEWTRAIL_STAGING_URL", "s3:///prefix-without-bucket", "is not an s3://bucket/prefix URL"),
        ("VIEWTRAIL_CELERY_BROKER", "http://u:hunter2@mq/", "is not a URL Celery can use"),
    ],
)
def test_deployment_urls_are_checked_and_the_lock_url_never_echoed(variable, value, says):
    with pytest.raises(config.SettingsError) as refused:
        parse(**{variable: value})
    assert variable in str(refused.value) and says in str(refused.value)
    assert "hunter2" not in str(refused.value)
    assert config.Settings.from_environ({}).writer_lock_url is None  # one machine by default


def test_the_celery_result_backend_defaults_to_the_redis_broker_and_rpc_for_rabbitmq():
    assert parse(VIEWTRAIL_CELERY_BROKER="redis://r:6379/3").celery_result_backend == "redis://r:6379/3"
    assert parse(VIEWTRAIL_CELERY_BROKER="amqp://guest@mq//").celery_result_backend == "rpc://"
    assert parse().celery_result_backend is None


def test_duckdb_memory_limit_and_spill_directory() -> None:
    default = parse()
    assert default.duckdb_memory_limit == "6GB"
    assert str(default.duckdb_temp_dir) == "/srv/vt/data/duckdb_tmp"
    chosen = parse(VIEWTRAIL_DUCKDB_MEMORY_LIMIT=" 512 MB ", VIEWTRAIL_DUCKDB_TEMP_DIR="/scratch/spill")
    assert (chosen.duckdb_memory_limit, str(chosen.duckdb_temp_dir)) == ("512MB", "/scratch/spill")
    with pytest.raises(SettingsError, match="VIEWTRAIL_DUCKDB_MEMORY_LIMIT") as caught:
        parse(VIEWTRAIL_DUCKDB_MEMORY_LIMIT="lots")
    assert "\n" not in str(caught.value)


def test_the_warehouse_connection_applies_the_memory_limit(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from viewtrail.warehouse.connection import open_warehouse

    monkeypatch.setenv("VIEWTRAIL_DUCKDB_MEMORY_LIMIT", "300MB")
    monkeypatch.setenv("VIEWTRAIL_DUCKDB_TEMP_DIR", str(tmp_path / "spill"))
    with open_warehouse(tmp_path / "w.duckdb") as con:
        limit = con.sql("SELECT current_setting('memory_limit')").fetchall()[0][0]
        temp = con.sql("SELECT current_setting('temp_directory')").fetchall()[0][0]
    assert limit.replace(" ", "").upper().startswith(("286.1MIB", "300MB", "286MIB")), limit
    assert temp == str(tmp_path / "spill")
