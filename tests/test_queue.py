"""Queue files between the CLI and the sensors: atomic, ordered, deduplicated, consumed once."""

from __future__ import annotations

import json

from viewtrail.pipeline import queue
from viewtrail.pipeline.queue import QueueKind, enqueue_new_videos, enqueue_rescrape, mark_consumed, pending_requests


def test_enqueue_writes_complete_json_and_nothing_for_no_ids(tmp_path):
    assert enqueue_new_videos([], root=tmp_path) is None
    assert enqueue_new_videos(["  ", ""], root=tmp_path) is None
    path = enqueue_new_videos(["youtube:a", "youtube:a", " tiktok:1 "], root=tmp_path)
    assert path is not None and path.parent == tmp_path / "new"
    payload = json.loads(path.read_text())
    assert payload["video_ids"] == ["youtube:a", "tiktok:1"]
    assert payload["request_id"] == path.stem and payload["requested_at"]
    assert not list(tmp_path.rglob("*.tmp"))  # written to a temp name, then renamed


def test_pending_requests_are_oldest_first_per_kind_and_consumed_once(tmp_path):
    first = enqueue_rescrape(["x:1"], root=tmp_path)
    second = enqueue_rescrape(["x:2"], root=tmp_path)
    enqueue_new_videos(["x:3"], root=tmp_path)
    pending = pending_requests("rescrape", root=tmp_path)
    assert [r.path for r in pending] == [first, second]
    assert [r.video_ids for r in pending] == [("x:1",), ("x:2",)]
    assert all(isinstance(r, queue.QueuedRequest) for r in pending)
    mark_consumed(pending[0])
    mark_consumed(pending[0])  # twice is harmless
    assert [r.request_id for r in pending_requests(QueueKind.RESCRAPE, root=tmp_path)] == [second.stem]
    assert (tmp_path / "rescrape" / "done" / first.name).exists()
    assert [r.video_ids for r in pending_requests(QueueKind.NEW, root=tmp_path)] == [("x:3",)]


def test_default_root_is_the_configured_queue_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("VIEWTRAIL_DATA_DIR", str(tmp_path))
    path = enqueue_new_videos(["youtube:a"])
    assert path is not None and path.is_relative_to(tmp_path)
    assert [r.path for r in pending_requests("new")] == [path]
