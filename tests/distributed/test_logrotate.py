"""deploy/logrotate.conf, as an operator installs it, rotating a log that a running process is appending to (the
way docs/deploy.md starts the daemon, the webserver and the workers): the old lines move to the rotated file, the
process carries on writing into the live file from its start (no hole of NUL bytes), and the rotated history is
kept. Run with a state file of the test's own, never the machine's."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.distributed import cluster as topology

CONFIG = topology.REPO / "deploy" / "logrotate.conf"


def _logrotate() -> str:
    found = shutil.which("logrotate") or ("/usr/sbin/logrotate" if Path("/usr/sbin/logrotate").exists() else None)
    if found is None:
        pytest.fail("logrotate is not installed; apt-get install logrotate (.ci/run does) and run again.")
    return found


def _installed(tmp_path: Path) -> tuple[Path, Path]:
    """The shipped configuration with its log paths pointed at this test's directories."""
    logs, data_logs = tmp_path / "var-log-viewtrail", tmp_path / "data" / "logs"
    logs.mkdir(parents=True)
    data_logs.mkdir(parents=True)
    text = CONFIG.read_text()
    paths = re.search(r"^(/\S+) (/\S+) \{$", text, re.MULTILINE)
    assert paths, "deploy/logrotate.conf should start its block with the two log path patterns"
    text = text.replace(paths.group(0), f"{logs}/*.log {data_logs}/*.log {{")
    conf = tmp_path / "logrotate.conf"
    conf.write_text(text)
    conf.chmod(0o644)  # logrotate refuses a configuration others can write
    return conf, logs


WRITER = """
import sys, time
for i in range(100000):
    print(f"line {i}", flush=True)
    time.sleep(0.01)
"""


def test_the_shipped_configuration_rotates_a_log_its_process_keeps_appending_to(tmp_path: Path):
    logrotate = _logrotate()
    conf, logs = _installed(tmp_path)
    state = tmp_path / "logrotate.state"
    checked = subprocess.run([logrotate, "-d", "-s", str(state), str(conf)], capture_output=True, text=True)
    assert checked.returncode == 0 and "error" not in checked.stderr.lower(), checked.stderr

    live = logs / "daemon.log"
    with live.open("ab") as out:  # `>> daemon.log 2>&1`: opened for appending, as the page's commands do
        writer = subprocess.Popen([sys.executable, "-c", WRITER], stdout=out, stderr=subprocess.STDOUT)
    try:
        topology.until(lambda: live.stat().st_size > 2000, "the writer to fill its log", timeout_s=60)
        forced = subprocess.run([logrotate, "-f", "-s", str(state), str(conf)], capture_output=True, text=True)
        assert forced.returncode == 0, forced.stderr
        rotated = logs / "daemon.log.1"
        assert rotated.read_text().startswith("line 0\n")
        topology.until(lambda: live.stat().st_size > 500, "the writer to write again after the rotation", 60)
    finally:
        writer.kill()
        writer.wait(timeout=60)
    after = live.read_bytes()
    assert b"\0" not in after  # it wrote from the start of the emptied file, not at its old offset
    old_last = int(rotated.read_text().splitlines()[-1].split()[1])
    new_first = int(after.decode().splitlines()[0].split()[1])
    assert new_first > old_last  # the live file carries on where the rotated one stopped
    # rotating again compresses the previous history (delaycompress) and keeps it
    subprocess.run([logrotate, "-f", "-s", str(state), str(conf)], check=True, capture_output=True)
    assert (logs / "daemon.log.2.gz").exists() and (logs / "daemon.log.1").exists()
