"""YouTube Data API client against recorded videos.list payloads (httpx.MockTransport, no network)."""

from __future__ import annotations

import json
from datetime import datetime

import httpx
import pytest
from fixtures.platform_support import by_id, client_for, fixture_json, run, video

from viewtrail.domain.models import Outcome
from viewtrail.platforms.youtube.client import MissingApiKeyError, QuotaTracker, parse_iso8601_duration

KEY = "AIzaSyFAKE-test-key-000000000000000000"


def api(payload_by_status):
    """Handler answering every videos.list call with (status, fixture) and recording requests."""
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        status, name = payload_by_status
        return httpx.Response(status, json=fixture_json("youtube", name))

    return handler, calls


def test_ok_batch_parses_counts_from_strings_and_keeps_hidden_metrics_null(tmp_path):
    handler, calls = api((200, "videos_list_ok.json"))
    client = client_for("youtube", handler, tmp_path, api_key=KEY)
    ids = ["dQw4w9WgXcQ", "Ks-_Mh1QhMc", "jNQXAC9IVRw", "5qap5aO4i9A", "AAAAAAAAAAA"]
    results = by_id(run(client, [video("youtube", i) for i in ids], run_id="r1", partition_key="2026-11-22-10:00"))

    assert len(calls) == 1  # five ids, one videos.list call, one quota unit
    request = calls[0]
    assert request.url.path.endswith("/videos")
    assert request.url.params["part"] == "snippet,statistics,contentDetails"
    assert request.url.params["id"].split(",") == ids
    assert request.headers["X-Goog-Api-Key"] == KEY
    assert "key" not in request.url.params  # never in the URL: httpx logs URLs

    rick = results["youtube:dQw4w9WgXcQ"]
    assert rick.attempt.outcome is Outcome.OK and rick.attempt.tries == 1 and rick.attempt.http_status == 200
    assert rick.attempt.run_id == "r1" and rick.attempt.partition_key == "2026-11-22-10:00"
    obs = rick.observation
    assert (obs.views, obs.likes, obs.comments, obs.shares, obs.saves) == (1718034612, 18529703, 2400187, None, None)
    assert obs.title.startswith("Rick Astley - Never Gonna Give You Up")
    assert obs.account == "Rick Astley"
    assert obs.posted_at == datetime(2009, 10, 25, 6, 57, 33)
    assert obs.duration_s == 214.0
    assert obs.source == "youtube_api" and obs.run_id == "r1"
    assert obs.extra["channel_id"] == "UCuAXFkgsw1L7xaCfnd5JJOw"

    hidden_likes = results["youtube:Ks-_Mh1QhMc"].observation
    assert hidden_likes.likes is None and hidden_likes.comments == 12034 and hidden_likes.views == 24451378
    comments_off = results["youtube:jNQXAC9IVRw"].observation
    assert comments_off.comments is None and comments_off.likes == 17904632
    live = results["youtube:5qap5aO4i9A"].observation
    assert live.duration_s is None  # P0D = live, no duration

    missing = results["youtube:AAAAAAAAAAA"]
    assert missing.attempt.outcome is Outcome.NOT_FOUND and missing.observation is None
    assert client.quota_status()["units_used"] == 1


def test_batches_of_fifty_ids_per_call(tmp_path):
    seen = []

    def handler(request):
        ids = request.url.params["id"].split(",")
        seen.append(len(ids))
        return httpx.Response(200, json={"items": []})

    client = client_for("youtube", handler, tmp_path, api_key=KEY)
    results = run(client, [video("youtube", f"{i:011d}") for i in range(120)])
    assert sorted(seen) == [20, 50, 50]
    assert len(results) == 120 and {r.attempt.outcome for r in results} == {Outcome.NOT_FOUND}
    assert client.quota_status()["units_used"] == 3


def test_empty_items_means_not_found(tmp_path):
    handler, _ = api((200, "videos_list_empty.json"))
    [result] = run(client_for("youtube", handler, tmp_path, api_key=KEY), [video("youtube", "dQw4w9WgXcQ")])
    assert result.attempt.outcome is Outcome.NOT_FOUND


def test_changed_shape_is_parse_error_naming_the_field(tmp_path):
    handler, _ = api((200, "videos_list_changed_shape.json"))
    [result] = run(client_for("youtube", handler, tmp_path, api_key=KEY), [video("youtube", "dQw4w9WgXcQ")])
    assert result.attempt.outcome is Outcome.PARSE_ERROR
    assert "statistics" in result.attempt.detail
    assert result.observation is None


def test_answer_without_items_is_parse_error(tmp_path):
    client = client_for(
        "youtube", lambda r: httpx.Response(200, json={"kind": "youtube#videoListResponse"}), tmp_path, api_key=KEY
    )
    [result] = run(client, [video("youtube", "dQw4w9WgXcQ")])
    assert result.attempt.outcome is Outcome.PARSE_ERROR and "items" in result.attempt.detail


def test_quota_exceeded_stops_youtube_until_reset_without_retrying(tmp_path):
    handler, calls = api((403, "error_quota_exceeded.json"))
    client = client_for("youtube", handler, tmp_path, api_key=KEY, batch_size=2, max_in_flight=1)
    results = run(client, [video("youtube", f"{i:011d}") for i in range(10)])
    assert len(calls) == 1  # not retried, and no further batch was sent
    assert [r.attempt.outcome for r in results] == [Outcome.QUOTA_EXHAUSTED] * 10
    assert [r.attempt.tries for r in results] == [1, 1] + [0] * 8
    status = client.quota_status()
    assert status["exhausted"] is True and status["resets_at"] == client.quota_resets_at()
    assert "resets" in results[-1].attempt.detail

    # A new client (next run, same Pacific day) reads the persisted state and sends nothing.
    handler2, calls2 = api((200, "videos_list_ok.json"))
    later = client_for("youtube", handler2, tmp_path, api_key=KEY)
    [again] = run(later, [video("youtube", "dQw4w9WgXcQ")])
    assert again.attempt.outcome is Outcome.QUOTA_EXHAUSTED and calls2 == []


def test_local_daily_budget_is_enforced_and_persisted(tmp_path):
    handler, calls = api((200, "videos_list_empty.json"))
    client = client_for("youtube", handler, tmp_path, api_key=KEY, daily_units=2, batch_size=1, max_in_flight=1)
    results = run(client, [video("youtube", f"{i:011d}") for i in range(5)])
    assert len(calls) == 2
    assert [r.attempt.outcome for r in results] == [Outcome.NOT_FOUND] * 2 + [Outcome.QUOTA_EXHAUSTED] * 3
    state = json.loads((tmp_path / "state" / "youtube_quota.json").read_text())
    assert state["units_used"] == 2


def test_quota_day_and_reset_follow_pacific_midnight(tmp_path):
    tracker = QuotaTracker(tmp_path / "q.json", 10)
    # 2026-11-22 07:30 UTC is still 2026-11-21 in Los Angeles (PST, UTC-8); reset at 08:00 UTC.
    assert tracker.quota_day(datetime(2026, 11, 22, 7, 30)) == "2026-11-21"
    assert tracker.resets_at(datetime(2026, 11, 22, 7, 30)) == datetime(2026, 11, 22, 8, 0)
    # Summer (PDT, UTC-7)
    assert tracker.resets_at(datetime(2026, 7, 1, 12, 0)) == datetime(2026, 7, 2, 7, 0)
    tracker.spend(datetime(2026, 11, 22, 7, 30), 3)
    assert tracker.status(datetime(2026, 11, 22, 7, 59))["units_used"] == 3
    assert tracker.status(datetime(2026, 11, 22, 8, 0))["units_used"] == 0  # new quota day


def test_key_invalid_is_blocked_with_clear_detail_and_stops_the_platform(tmp_path):
    handler, calls = api((400, "error_key_invalid.json"))
    client = client_for("youtube", handler, tmp_path, api_key=KEY, batch_size=1, max_in_flight=1)
    results = run(client, [video("youtube", f"{i:011d}") for i in range(4)])
    assert len(calls) == 1
    assert results[0].attempt.outcome is Outcome.BLOCKED
    assert "YOUTUBE_API_KEY" in results[0].attempt.detail and KEY not in results[0].attempt.detail
    assert [r.attempt.outcome for r in results[1:]] == [Outcome.CIRCUIT_OPEN] * 3


def test_rate_limit_403_and_429_are_retried_then_rate_limited(tmp_path):
    for status, name in ((403, "error_rate_limit_exceeded.json"), (429, "error_429.json")):
        handler, calls = api((status, name))
        client = client_for("youtube", handler, tmp_path, api_key=KEY, max_retries=2)
        [result] = run(client, [video("youtube", "dQw4w9WgXcQ")])
        assert result.attempt.outcome is Outcome.RATE_LIMITED
        assert len(calls) == 3 and result.attempt.tries == 3


def test_backend_error_retries_then_succeeds(tmp_path):
    answers = [(503, "error_503_backend.json"), (200, "videos_list_ok.json")]

    def handler(request):
        status, name = answers.pop(0) if len(answers) > 1 else answers[0]
        return httpx.Response(status, json=fixture_json("youtube", name))

    client = client_for("youtube", handler, tmp_path, api_key=KEY)
    [result] = run(client, [video("youtube", "dQw4w9WgXcQ")])
    assert result.attempt.outcome is Outcome.OK and result.attempt.tries == 2
    assert client.quota_status()["units_used"] == 2  # failed calls cost quota too


def test_missing_api_key_is_a_clear_error_when_the_data_api_is_asked_for(tmp_path, monkeypatch):
    monkeypatch.delenv("YOUTUBE_API_KEY", raising=False)
    monkeypatch.setenv("VIEWTRAIL_YOUTUBE_BACKEND", "native")  # unset, YouTube without a key goes through yt-dlp
    with pytest.raises(
        MissingApiKeyError, match="YOUTUBE_API_KEY is not set: .* or set VIEWTRAIL_YOUTUBE_BACKEND=ytdlp"
    ):
        client_for("youtube", lambda r: httpx.Response(200), tmp_path)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("PT3M34S", 214.0), ("PT1H2M3S", 3723.0), ("PT19S", 19.0), ("P1DT1S", 86401.0), ("PT2.5S", 2.5), ("P0D", None)],
)
def test_iso8601_durations(text, seconds):
    assert parse_iso8601_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "3:34", "PT", "P", "PTxS"])
def test_bad_durations_raise(text):
    with pytest.raises(ValueError):
        parse_iso8601_duration(text)


def test_unwritable_state_dir_still_enforces_the_budget_in_memory(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the state directory should be")
    handler, calls = api((200, "videos_list_empty.json"))
    client = client_for(
        "youtube", handler, api_key=KEY, state_dir=blocker, daily_units=2, batch_size=1, max_in_flight=1
    )
    results = run(client, [video("youtube", f"{i:011d}") for i in range(4)])
    assert len(calls) == 2
    assert [r.attempt.outcome for r in results] == [Outcome.NOT_FOUND] * 2 + [Outcome.QUOTA_EXHAUSTED] * 2


def test_quota_status_is_visible_without_an_api_key(tmp_path, monkeypatch):
    monkeypatch.setenv("VIEWTRAIL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("VIEWTRAIL_YOUTUBE_DAILY_UNITS", "300")
    monkeypatch.delenv("YOUTUBE_API_KEY", raising=False)
    from viewtrail.platforms.youtube.client import quota_status_from_env

    now = datetime(2026, 11, 22, 20, 0)
    assert quota_status_from_env(now)["units_used"] == 0
    QuotaTracker(tmp_path / "state" / "youtube_quota.json", 300).spend(now, 7)
    status = quota_status_from_env(now)
    assert (status["units_used"], status["units_left"], status["daily_units"]) == (7, 293, 300)
    assert status["resets_at"] == datetime(2026, 11, 23, 8, 0)
