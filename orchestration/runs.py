"""Launching pipeline runs from a process (the CLI, the demo): in-process Dagster runs on the instance of
``DAGSTER_HOME`` (so they show in ``make ui``), with the resources read from the environment.

``viewtrail build``, ``viewtrail demo`` and the tests launch runs only through these helpers.

Crash safety without a daemon: a run killed mid-step (SIGKILL, OOM) keeps its slot of the pool ``duckdb`` until
run monitoring frees it, and that only happens while a dagster-daemon runs. So every launch here first frees the
slots of runs whose process is provably gone, and while its step waits for a live holder it says who holds the
warehouse instead of hanging silently.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestration.defs.progress import DBT_PROGRESS_PREFIX
from viewtrail import config
from viewtrail.clock import partition_key, system_now
from viewtrail.domain.errors import ViewtrailError

Progress = Callable[[str], None]

#: In-process runs log to the Dagster event log (visible in the UI); the terminal only shows warnings.
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}

#: The pool of every step that writes the warehouse (limit 1 in .dagster_home/dagster.yaml).
WAREHOUSE_POOL = "duckdb"
#: Tags of runs launched here: enough to tell later, on this host, whether the launching process is gone.
HOST_TAG = "viewtrail/host"
PID_TAG = "viewtrail/pid"
PROCESS_START_TAG = "viewtrail/process_start"
#: A value unique to one launch: the watcher finds its run by it before materialize returns the run id.
LAUNCH_TAG = "viewtrail/launch_id"

POLL_S = 1.0
#: The watcher sleeps in slices this short between looks at the pool, so a finished launch stops it at once.
STOP_SLICE_S = 0.05
FIRST_NOTICE_S = 2.0
NOTICE_EVERY_S = 30.0
#: A finished run of another host can still have a step writing (its run was marked ended from outside);
#: free its slot only after the grace the daemon's run monitoring uses.
DEFAULT_FINISHED_GRACE_S = 60.0


class RunFailedError(ViewtrailError):
    """A pipeline run launched from this process failed."""


@contextmanager
def dagster_instance() -> Iterator[Any]:
    """The instance of ``DAGSTER_HOME`` when set (runs show in the UI), else an ephemeral one."""
    from dagster import DagsterInstance

    home = os.environ.get("DAGSTER_HOME", "").strip()
    if home:
        Path(home).mkdir(parents=True, exist_ok=True)
        with DagsterInstance.get() as instance:
            yield instance
    else:
        with DagsterInstance.ephemeral() as instance:
            yield instance


def pipeline_resources(*, simulated: bool = False) -> dict[str, Any]:
    """Resources for in-process runs, from the settings now (tests and the CLI set the environment before):
    the same builders as the code location's, so a run from the CLI waits for the lock as long as the pipeline."""
    from orchestration.defs.resources import PlatformClientsResource, platform_clients_from_env, warehouse_from_env

    settings = config.settings()
    platforms = PlatformClientsResource() if simulated else platform_clients_from_env(settings)
    return {"warehouse": warehouse_from_env(settings), "platforms": platforms}


def _print_stderr(line: str) -> None:
    # stderr: the CLI redirects stdout while dbt runs
    print(line, file=sys.stderr, flush=True)


def process_start(pid: int) -> str | None:
    """An opaque token of when process ``pid`` started (compared for equality, so a reused pid is not taken
    for the original), "" when the process exists but its start is unknown, None when it does not exist."""
    if Path("/proc/self/stat").exists():
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        fields = stat.rsplit(")", 1)[1].split()  # the command name in parentheses may contain spaces
        return None if fields[0] in ("Z", "X") else fields[19]  # state; starttime in ticks since boot
    if os.name != "posix":
        return ""  # os.kill(pid, 0) would terminate the process on Windows: cannot tell, assume alive
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return ""


def process_tags() -> dict[str, str]:
    """Run tags naming this process (host, pid, start token)."""
    pid = os.getpid()
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(pid), PROCESS_START_TAG: process_start(pid) or ""}


def _process_gone(tags: dict[str, str]) -> bool | None:
    """Whether the process that launched a run is gone; None when this host cannot tell (the run was launched
    on another host or not by viewtrail: the daemon's run monitoring is the one to judge those)."""
    if tags.get(HOST_TAG) != socket.gethostname() or not tags.get(PID_TAG, "").isdigit():
        return None
    current = process_start(int(tags[PID_TAG]))
    if current is None:
        return True
    recorded = tags.get(PROCESS_START_TAG, "")
    return bool(current and recorded and current != recorded)


def _pool_run_ids(info: Any) -> list[str]:
    """Runs holding the pool's slots, then runs queued for it, each once."""
    return list(dict.fromkeys([s.run_id for s in info.claimed_slots] + [s.run_id for s in info.pending_steps]))


def _dead_reason(instance: Any, record: Any) -> str | None:
    """Why a run holding or queued for the pool can no longer use it, or None while it may."""
    if record is None:
        return "the run no longer exists"
    run = record.dagster_run
    gone = _process_gone(run.tags)
    if gone:
        return f"process {run.tags[PID_TAG]} on this host is gone"
    if run.is_finished and gone is None:
        grace = instance.run_monitoring_settings.get("free_slots_after_run_end_seconds") or DEFAULT_FINISHED_GRACE_S
        # Dagster stamps end_time with the system clock, not viewtrail's shiftable one
        ended = datetime.fromtimestamp(record.end_time or 0, UTC).replace(tzinfo=None)
        ended_s = (system_now() - ended).total_seconds()
        if ended_s > grace:
            return f"the run ended {_duration(ended_s)} ago, {run.status.value}"
    return None


def free_dead_holders(instance: Any, say: Progress, exclude: str | None = None) -> list[str]:
    """Free the pool ``duckdb`` from runs whose process is gone, marking the unfinished ones failed; one line
    each through ``say``. Returns the freed run ids. Runs launched on other hosts or not by viewtrail are left
    to the daemon's run monitoring unless they ended long ago."""
    storage = instance.event_log_storage
    info = storage.get_concurrency_info(WAREHOUSE_POOL)
    claimed = {s.run_id for s in info.claimed_slots}
    freed = []
    for run_id in _pool_run_ids(info):
        if run_id == exclude:
            continue
        record = instance.get_run_record_by_id(run_id)
        reason = _dead_reason(instance, record)
        if reason is None:
            continue
        marked = ""
        if record is not None and not record.dagster_run.is_finished:
            instance.report_run_failed(record.dagster_run, message=f"Marked failed by viewtrail: {reason}.")
            marked = "; it is marked failed"
        storage.free_concurrency_slots_for_run(run_id)
        what = "Freed the warehouse slot held by" if run_id in claimed else "Dropped the queued warehouse claim of"
        say(f"{what} run {run_id[:8]} ({reason}){marked}.")
        freed.append(run_id)
    return freed


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def _waiting_line(instance: Any, info: Any, run_id: str, waited_s: float) -> str | None:
    """Who holds the warehouse that run ``run_id`` waits for, or None if nobody else does."""
    holders = [(s.run_id, s.step_key) for s in info.claimed_slots if s.run_id != run_id]
    # a step assigned the slot but not yet claiming it blocks the queue just the same
    holders += [(s.run_id, s.step_key) for s in info.pending_steps if s.run_id != run_id and s.assigned_timestamp]
    if not holders:
        return None
    holder_id, step_key = holders[0]
    assigned = [s.assigned_timestamp for s in info.pending_steps if s.run_id == holder_id and s.assigned_timestamp]
    # Dagster stamps the assignment with the system clock, not viewtrail's shiftable one
    held_s = (system_now() - assigned[0].astimezone(UTC).replace(tzinfo=None)).total_seconds() if assigned else waited_s
    holder = instance.get_run_by_id(holder_id)
    tags = holder.tags if holder is not None else {}
    where = (
        f"pid {tags[PID_TAG]} on {tags[HOST_TAG]}"
        if PID_TAG in tags and HOST_TAG in tags
        else "launched outside viewtrail's CLI"
    )
    return f"Waiting for the warehouse: run {holder_id[:8]} ({step_key}, {where}) has held it for {_duration(held_s)}."


def _stopped_within(stop: threading.Event, seconds: float) -> bool:
    """Whether ``stop`` is set within ``seconds``, like ``stop.wait(seconds)`` but sleeping in short slices.

    A timed lock wait (``Event.wait``, ``Lock.acquire(timeout=)``) sleeps in ``sem_clockwait`` until a deadline on
    CLOCK_MONOTONIC; ``faketime`` shifts the monotonic clock Python computes that deadline from but does not
    translate ``sem_clockwait``, so the wait lasts as long as the clock is shifted (the suite must pass with it
    moved a year ahead). ``time.sleep`` is translated and keeps working."""
    deadline = time.monotonic() + seconds
    while not stop.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(STOP_SLICE_S, left))
    return True


class _StepReporter:
    """Says on the terminal which steps of a run start and finish, and dbt's models one by one, read from the
    run's event log, so a long run is never silent for more than a few seconds."""

    def __init__(self, say: Progress) -> None:
        self.say = say
        self.cursor: str | None = None
        self.started: dict[str, float] = {}
        self.in_dbt = False

    def poll(self, instance: Any, run_id: str) -> None:
        from dagster import DagsterEventType

        steps = {DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE}
        while True:
            # only the steps' events, but every record while the dbt step runs (its progress lines are log
            # messages): a backfill stores two events per hour and asset, not worth reading here
            kinds = None if self.in_dbt else steps
            found = instance.get_records_for_run(run_id, cursor=self.cursor, of_type=kinds, limit=500)
            self.cursor = found.cursor
            for record in found.records:
                self._event(record.event_log_entry)
            if not found.has_more:
                break

    def _event(self, entry: Any) -> None:
        event = entry.dagster_event
        if event is None:
            message = entry.user_message or ""
            if message.startswith(DBT_PROGRESS_PREFIX):
                self.say(f"    dbt: {message.removeprefix(DBT_PROGRESS_PREFIX)}")
            return
        step = (event.step_key or "?").replace("__", "/")
        if event.is_step_start:
            self.started[step] = entry.timestamp
            self.in_dbt = "dbt" in step
            self.say(f"    {step}: started")
        elif event.is_step_success or event.is_step_failure:
            self.in_dbt = False
            took = entry.timestamp - self.started.get(step, entry.timestamp)
            self.say(f"    {step}: {'done' if event.is_step_success else 'FAILED'} ({took:.1f}s)")


def _watch_pool(
    instance: Any,
    launch_id: str,
    say: Progress,
    stop: threading.Event,
    steps: _StepReporter | None = None,
    pools: bool = True,
) -> None:
    """While our run's step waits for the pool: say who holds it (after FIRST_NOTICE_S, then every
    NOTICE_EVERY_S), and free the holder if its process dies meanwhile. With ``steps``, also say how the run's
    steps progress; without ``pools`` (an instance that keeps none), only that."""
    from dagster import RunsFilter

    run_id = None
    waiting_since = next_notice = 0.0
    while not _stopped_within(stop, POLL_S):
        try:
            if run_id is None:
                runs = instance.get_runs(filters=RunsFilter(tags={LAUNCH_TAG: launch_id}), limit=1)
                if not runs:
                    continue
                run_id = runs[0].run_id
            if steps is not None:
                steps.poll(instance, run_id)
            if not pools:
                continue
            info = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
            if not any(s.run_id == run_id and s.assigned_timestamp is None for s in info.pending_steps):
                waiting_since = 0.0
                continue
            now = time.monotonic()
            if not waiting_since:
                waiting_since, next_notice = now, now + FIRST_NOTICE_S
            if free_dead_holders(instance, say, exclude=run_id) or now < next_notice:
                continue
            line = _waiting_line(instance, info, run_id, now - waiting_since)
            if line:
                say(line)
                next_notice = now + NOTICE_EVERY_S
        except Exception:  # noqa: BLE001 - a failed look at the pool must not disturb the run it watches
            continue
    if steps is not None:
        # the run has ended: report the steps it finished since the last look (the last ones would go unsaid)
        try:
            if run_id is None:
                runs = instance.get_runs(filters=RunsFilter(tags={LAUNCH_TAG: launch_id}), limit=1)
                run_id = runs[0].run_id if runs else None
            if run_id is not None:
                steps.poll(instance, run_id)
        except Exception:  # noqa: BLE001 - a failed last look must not turn a finished run into an error
            pass


def materialize_in_process(
    assets: list[Any],
    instance: Any,
    resources: dict[str, Any],
    *,
    progress: Progress | None = None,
    report_steps: bool = False,
    **kwargs: Any,
) -> Any:
    """``dagster.materialize`` for runs launched from this process (quiet console, errors kept in the result).

    The run is tagged with this process; before it starts, slots of the pool ``duckdb`` held by runs whose
    process is gone are freed, and while its step waits for a live holder, ``progress`` (default: stderr) is
    told who holds the warehouse. With ``report_steps``, it is also told when each step starts and ends (and
    each dbt model as it is built), as the run goes.
    """
    from dagster import materialize

    say = progress or _print_stderr
    kwargs.setdefault("run_config", QUIET_RUN_CONFIG)
    launch_id = uuid.uuid4().hex
    kwargs["tags"] = {**(kwargs.get("tags") or {}), **process_tags(), LAUNCH_TAG: launch_id}
    # no other process shares an ephemeral instance, and some storages keep no pools: nothing to wait for, but the
    # steps are still said as they go (`viewtrail build` without DAGSTER_HOME runs on an ephemeral instance)
    pools = not instance.is_ephemeral and instance.event_log_storage.supports_global_concurrency_limits
    if not pools and not report_steps:
        return materialize(assets, instance=instance, resources=resources, raise_on_error=False, **kwargs)

    if pools:
        free_dead_holders(instance, say)
    stop = threading.Event()
    steps = _StepReporter(say) if report_steps else None
    watcher = threading.Thread(
        target=_watch_pool,
        args=(instance, launch_id, say, stop, steps, pools),
        name="viewtrail-pool-watch",
        daemon=True,
    )
    watcher.start()
    try:
        return materialize(assets, instance=instance, resources=resources, raise_on_error=False, **kwargs)
    finally:
        stop.set()
        watcher.join()


def backfill_snapshots(
    instance: Any,
    resources: dict[str, Any],
    first_hour: datetime,
    last_hour: datetime,
    progress: Progress,
    *,
    origin: str = "demo",
    platforms: Iterable[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Scrape and load each platform (or only ``platforms``) for [first_hour, last_hour]: one run covering the whole
    range (single-run backfill) and every platform. Returns the metadata of both steps per load asset key.

    One run for all platforms rather than one per platform: each run costs its set-up, its definitions and its
    planned events; in-process, the steps run one after the other, so the loads never wait for each other's
    slot of the pool "duckdb". A failing platform fails only its own steps; the others are still loaded, and
    the run is reported failed naming the platform.
    """
    from orchestration.defs.assets import assets_of, snapshot_asset_key

    def describe(metadata: dict[str, Any]) -> str:
        return f"{metadata.get('attempts', '?')} attempts, outcomes {metadata.get('outcomes', {})}"

    return _backfill(
        instance,
        resources,
        first_hour,
        last_hour,
        progress,
        assets_of,
        snapshot_asset_key,
        describe,
        origin=origin,
        platforms=platforms,
    )


def backfill_discovery(
    instance: Any,
    resources: dict[str, Any],
    first_hour: datetime,
    last_hour: datetime,
    progress: Progress,
    *,
    origin: str = "demo",
    platforms: Iterable[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Discover the watched accounts of each platform (or only ``platforms``) for [first_hour, last_hour], in one
    run as :func:`backfill_snapshots` does. Run it before the scrape backfill of the same range:
    the videos it registers are then scraped from when they were discovered."""
    from orchestration.defs.discovery import account_assets_of, accounts_asset_key

    def describe(metadata: dict[str, Any]) -> str:
        return (
            f"{metadata.get('discoveries', '?')} discoveries, outcomes {metadata.get('outcomes', {})}, "
            f"{metadata.get('videos_registered', 0)} videos registered, {metadata.get('inbox_added', 0)} to the inbox"
        )

    return _backfill(
        instance,
        resources,
        first_hour,
        last_hour,
        progress,
        account_assets_of,
        accounts_asset_key,
        describe,
        origin=origin,
        platforms=platforms,
    )


def _backfill(
    instance: Any,
    resources: dict[str, Any],
    first_hour: datetime,
    last_hour: datetime,
    progress: Progress,
    assets_for: Any,
    key_for: Any,
    describe: Any,
    *,
    origin: str,
    platforms: Iterable[str] | None,
) -> dict[str, dict[str, Any]]:
    from viewtrail.domain.models import Platform

    tags = {
        "dagster/asset_partition_range_start": partition_key(first_hour),
        "dagster/asset_partition_range_end": partition_key(last_hour),
        "viewtrail/origin": origin,
    }
    chosen = [Platform(p) for p in platforms] if platforms is not None else list(Platform)
    started = time.monotonic()
    result = materialize_in_process(
        assets_for(*chosen), instance, resources, progress=progress, report_steps=True, tags=tags
    )
    took = time.monotonic() - started
    metadata: dict[str, dict[str, Any]] = {}
    for event in result.get_asset_materialization_events():
        found = event.materialization
        values = {k: getattr(v, "value", v) for k, v in found.metadata.items()}
        metadata.setdefault(found.asset_key.to_user_string(), {}).update(values)
    per_asset: dict[str, dict[str, Any]] = {}
    failures = []
    for platform in chosen:
        key = key_for(platform).to_user_string()
        if key not in metadata:
            failures.append(key)
            progress(f"  {key}: FAILED (run {result.run_id})")
            continue
        # both steps of the platform: the network step's counts, then the write's
        steps = [a.key.to_user_string() for a in assets_for(platform)]
        per_asset[key] = {k: v for step in steps for k, v in metadata.get(step, {}).items()}
        progress(f"  {key}: {describe(per_asset[key])}")
    hours = int((last_hour - first_hour).total_seconds() // 3600) + 1
    progress(f"  one run, {len(chosen)} platform(s) x {hours} hour(s), {took:.1f}s")
    if failures or not result.success:
        failed = ", ".join(failures) or "a step"
        raise RunFailedError(
            f"The backfill run {result.run_id} failed for {failed}; open `make ui` (Runs) for the logs."
        )
    return per_asset


def build_and_publish(
    instance: Any, resources: dict[str, Any], progress: Progress | None = None, *, full_refresh: bool = False
) -> Any:
    """One Dagster run: the payouts due finalized, dbt build (models + data tests as asset checks), the alert rules,
    then the analyst copy (which thus holds what the rules fired). ``full_refresh``: every incremental model rebuilt
    from scratch."""
    from orchestration.defs.alerting import alert_events
    from orchestration.defs.dbt import DBT_FULL_REFRESH_TAG, viewtrail_dbt_assets
    from orchestration.defs.programs import payout_finalizations
    from orchestration.defs.publishing import analytics_copy

    result = materialize_in_process(
        [payout_finalizations, viewtrail_dbt_assets(), analytics_copy, alert_events],
        instance,
        resources,
        progress=progress,
        report_steps=progress is not None,
        tags={"viewtrail/origin": "build", **({DBT_FULL_REFRESH_TAG: "true"} if full_refresh else {})},
    )
    if not result.success:
        failures = [event for event in result.all_events if event.event_type_value == "STEP_FAILURE"]
        if any(_was_interrupted(event) for event in failures):
            # Ctrl-C or SIGTERM while a step ran: Dagster ended the run, so say it was stopped, not that it failed
            raise KeyboardInterrupt
        failed = [event.step_key or "?" for event in failures]
        raise RunFailedError(
            f"The dbt build / publish run {result.run_id} failed in {', '.join(failed) or 'a step'}; "
            f"open `make ui` (Runs) for the dbt log."
        )
    return result


def _was_interrupted(step_failure: Any) -> bool:
    """The step failed because the run was interrupted (Dagster's ``ErrorSource.INTERRUPT``), not by an error."""
    source = getattr(step_failure.step_failure_data, "error_source", None)
    return getattr(source, "value", None) == "INTERRUPT"


def report_inline_snapshots(platforms: Iterable[str], *, reason: str = "inline first snapshot") -> bool:
    """Tell the instance of ``DAGSTER_HOME`` that snapshots of ``platforms`` were written outside a run (the
    first snapshot ``viewtrail track`` takes), so the build-after-new-snapshots automation picks them up.
    Returns False when there is no instance to tell (no ``DAGSTER_HOME``)."""
    if not os.environ.get("DAGSTER_HOME", "").strip():
        return False
    from dagster import AssetMaterialization

    from orchestration.defs.assets import snapshot_asset_key
    from viewtrail.clock import last_complete_hour

    with dagster_instance() as instance:
        for platform in dict.fromkeys(platforms):
            instance.report_runless_asset_event(
                AssetMaterialization(
                    asset_key=snapshot_asset_key(platform),
                    partition=partition_key(last_complete_hour()),
                    metadata={"written_by": reason},
                )
            )
    return True


class DagsterOrchestrator:
    """viewtrail's orchestrator (:mod:`viewtrail.app.orchestrator`): in-process Dagster runs on the instance of
    ``DAGSTER_HOME``, with the resources read from the settings when it is entered. Dagster's beta and preview
    notices (about APIs the definitions use on purpose) are silenced while it is open: they are for us, not for a
    user's terminal; any other warning still shows."""

    def __init__(self, *, simulated: bool = False) -> None:
        self.simulated = simulated
        self._stack: contextlib.ExitStack | None = None
        self.instance: Any = None
        self.resources: dict[str, Any] = {}

    def __enter__(self) -> DagsterOrchestrator:
        import warnings

        from dagster import BetaWarning, PreviewWarning

        stack = contextlib.ExitStack()
        stack.enter_context(warnings.catch_warnings())
        warnings.filterwarnings("ignore", category=BetaWarning)
        warnings.filterwarnings("ignore", category=PreviewWarning)
        self._stack = stack
        return self

    def _ready(self) -> None:
        """Open the instance and build the resources on the first run launched (reporting needs neither)."""
        if self.instance is None:
            assert self._stack is not None, "enter the orchestrator (with ...) before launching runs"
            self.instance = self._stack.enter_context(dagster_instance())
            self.resources = pipeline_resources(simulated=self.simulated)

    def __exit__(self, *exc: object) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None
            self.instance = None

    def backfill_discovery(
        self,
        first_hour: datetime,
        last_hour: datetime,
        progress: Progress,
        *,
        origin: str = "demo",
        platforms: Iterable[str] | None = None,
    ) -> dict[str, dict[str, Any]]:
        self._ready()
        return backfill_discovery(
            self.instance, self.resources, first_hour, last_hour, progress, origin=origin, platforms=platforms
        )

    def backfill_snapshots(
        self,
        first_hour: datetime,
        last_hour: datetime,
        progress: Progress,
        *,
        origin: str = "demo",
        platforms: Iterable[str] | None = None,
    ) -> dict[str, dict[str, Any]]:
        self._ready()
        return backfill_snapshots(
            self.instance, self.resources, first_hour, last_hour, progress, origin=origin, platforms=platforms
        )

    def build_and_publish(self, progress: Progress | None = None, *, full_refresh: bool = False) -> str:
        self._ready()
        return build_and_publish(self.instance, self.resources, progress=progress, full_refresh=full_refresh).run_id

    def report_inline_snapshots(self, platforms: Iterable[str], *, reason: str = "inline first snapshot") -> bool:
        return report_inline_snapshots(platforms, reason=reason)
