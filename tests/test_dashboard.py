"""The dashboard's pages through FastAPI's TestClient, over a warehouse built by dbt and published: the numbers
on the pages are the marts' (read through the mart reader), bad input is a visible sentence, writes need the
write scope and the CSRF token, and share links stop working when revoked or expired."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from html import unescape

import duckdb
import pytest
from api_support import api_env
from dashboard_support import ALERT_OCCURRED, INBOX, LAUNCH, NOW, QUIET, RICK, SLACK_SECRET, publish_everything
from fastapi.testclient import TestClient

from viewtrail import clock
from viewtrail.dashboard import fmt
from viewtrail.warehouse import marts

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[dict]:
    with api_env(tmp_path_factory.mktemp("dashboard"), VIEWTRAIL_API_RATE_PER_MIN="100000") as data:
        publish_everything(data)
        from viewtrail.dashboard.app import create_app

        with clock.pinned(NOW):
            yield {"data": data, "app": create_app(), "remote": create_app(login_required=True)}


def copy(site) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(site["data"] / "analytics.duckdb"), read_only=True)


def text(response) -> str:
    """The page's visible text, roughly: tags dropped, entities decoded, whitespace squeezed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", response.text)))


def csrf_of(response) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', response.text)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def kpi(response, title: str) -> str:
    match = re.search(rf'data-kpi="{re.escape(title)}".*?data-exact="([^"]*)"', response.text, flags=re.DOTALL)
    assert match, f"no card {title!r}"
    return unescape(match.group(1))


@pytest.fixture
def client(site) -> Iterator[TestClient]:
    with TestClient(site["app"], base_url="http://127.0.0.1:8000") as c:
        yield c


# ------------------------------------------------------------------------------------------------ overview


def test_overview_cards_equal_the_marts_and_mark_the_partial_day(site, client):
    r = client.get("/?days=7")
    assert r.status_code == 200, r.text
    start, end = NOW.date() - timedelta(days=6), NOW.date()
    with copy(site) as con:
        days = marts.totals_days(con, start=start, end=end)
        top = marts.top_videos(con, start=start, end=end, limit=10)
    assert days, "the fixture's marts have days in the period"
    assert kpi(r, "Views gained") == fmt.thousands(sum(d.views_gained for d in days))
    assert kpi(r, "Total views") == fmt.thousands(days[-1].views)
    with copy(site) as con:  # the engagement rate as marts.label_daily defines it, over all videos
        engaged = con.execute(
            "SELECT sum(engagements) / sum(views) FROM marts.video_engagement"
            " WHERE day = ? AND engagements IS NOT NULL AND views IS NOT NULL",
            [days[-1].day],
        ).fetchone()[0]
    assert kpi(r, "Engagement rate") == fmt.percent(engaged, 3) == fmt.percent(days[-1].engagement_rate, 3)
    assert f'data-partial="{NOW.date().isoformat()}"' in r.text and "Partial" in r.text
    rows = re.findall(r'<a href="/videos/([^"]+)">.*?data-value="(\d+)"', r.text.split("Top videos")[1], flags=re.S)
    assert [(vid, int(v)) for vid, v in rows] == [(t.video_id, t.views_gained) for t in top]
    page = text(r)
    assert "UTC" in page and "vs previous 7 days" in page
    # the health strip: TikTok 3 ok of 4 attempts in the last 24 h, YouTube none (its last ok 30 h ago)
    tiktok = re.search(r'data-platform="tiktok">(.*?)</a>', r.text, flags=re.S).group(1)
    assert "75.0% ok of 4" in tiktok
    assert "no attempts" in re.search(r'data-platform="youtube">(.*?)</a>', r.text, flags=re.S).group(1)


def test_overview_cumulative_mode_and_custom_range(client):
    r = client.get("/?start=2026-10-25&end=2026-11-05&mode=cumulative")
    assert r.status_code == 200 and "Total views per day" in r.text
    assert "data-partial" not in r.text  # the range ends before today
    assert "2026-10-25 to 2026-11-05" in text(r)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("days=12", "days must be one of 7, 30, 90"),
        ("days=abc", "days must be a whole number"),
        ("start=2026-11-10&end=2026-11-01", "swap the dates"),
        ("start=yesterday", "start must be a date like"),
        ("mode=weekly", "mode must be new or cumulative"),
    ],
)
def test_overview_bad_query_is_a_visible_sentence(client, query, message):
    r = client.get(f"/?{query}")
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html")
    assert message in text(r) and "Traceback" not in r.text


def test_empty_warehouse_says_what_to_do_next(tmp_path):
    with api_env(tmp_path):
        from viewtrail.dashboard.app import create_app

        with TestClient(create_app()) as c:
            assert "No videos yet — run viewtrail track URL" in text(c.get("/"))
            assert "No videos yet — run viewtrail track URL or paste links below" in text(c.get("/videos"))


# --------------------------------------------------------------------------------------------------- videos


def table_ids(response) -> list[str]:
    return re.findall(r'<tr data-video="([^"]+)">', response.text)


def test_videos_table_is_the_marts_page_sorted_filtered_and_paged(site, client):
    with copy(site) as con:
        expected, total = marts.video_table(con, marts.VideoFilter(), sort="views", limit=50)
    r = client.get("/videos")
    assert r.status_code == 200
    assert table_ids(r) == [row.video_id for row in expected] and total == 3
    views = re.search(rf'<tr data-video="{re.escape(RICK)}">.*?data-col="views"[^>]*>([^<]+)<', r.text, re.S)
    assert views.group(1).strip() == fmt.thousands(next(x for x in expected if x.video_id == RICK).views)
    assert table_ids(client.get("/videos?label=launch")) == [v for v in table_ids(r) if v in (RICK, LAUNCH)]
    assert table_ids(client.get("/videos?q=ANA.COOKS")) == [LAUNCH]
    assert table_ids(client.get("/videos?platform=YouTube")) == [RICK]
    assert table_ids(client.get("/videos?sort=video&order=asc")) == sorted([RICK, LAUNCH, QUIET])
    assert table_ids(client.get("/videos?sort=video&order=asc&size=1&page=2")) == [sorted([RICK, LAUNCH, QUIET])[1]]
    assert table_ids(client.get(f"/videos?posted_from={(NOW - timedelta(days=3)).date()}")) == [LAUNCH]
    assert table_ids(client.get("/videos?status=stopped")) == []
    assert "No video matches these filters" in text(client.get("/videos?label=nothing"))


def test_videos_column_picker_shows_the_columns_asked_for(client):
    r = client.get("/videos?col=likes&col=outlier")
    cols = set(re.findall(r'data-col="([a-z_0-9]+)"', r.text))
    assert cols == {"likes", "outlier"}
    assert "There is no column 'nope'" in text(client.get("/videos?col=nope"))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("platform=myspace", "myspace"),
        ("sort=bogus", "sort must be one of"),
        ("order=up", "order must be asc or desc"),
        ("size=0", "size must be a whole number from 1 to 200"),
        ("posted_from=soon", "posted_from must be a date"),
        ("status=gone", "status must be one of active, stopped, untracked"),
    ],
)
def test_videos_bad_query_is_a_visible_sentence(client, query, message):
    r = client.get(f"/videos?{query}")
    assert r.status_code == 400 and message in text(r) and "Traceback" not in r.text


def test_csv_export_holds_every_row_of_the_filter(site, client):
    r = client.get("/videos.csv?label=launch&sort=video&order=asc")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.text.strip().splitlines()
    assert lines[0].startswith("video_id,platform,title")
    assert [line.split(",")[0] for line in lines[1:]] == sorted([RICK, LAUNCH])
    with copy(site) as con:
        [rick] = [row for row in marts.video_table(con, marts.VideoFilter(label="launch"))[0] if row.video_id == RICK]
    assert f",{rick.views}," in next(line for line in lines if line.startswith(RICK))


def test_search_suggests_videos_and_labels(client):
    results = client.get("/search?q=launch").json()["results"]
    assert {"kind": "label", "title": "launch"}.items() <= results[-1].items()
    assert [r["href"] for r in client.get("/search?q=dQw4").json()["results"]] == [f"/videos/{RICK}"]


# ----------------------------------------------------------------------------------------------- one video


def test_video_page_shows_the_marts_numbers_interpolated_days_and_attempts(site, client):
    r = client.get(f"/videos/{RICK}")
    assert r.status_code == 200
    with copy(site) as con:
        metrics = marts.video_metrics(con, [RICK])[RICK]
        days = marts.video_days(con, video_id=RICK)
    assert kpi(r, "Views") == fmt.thousands(metrics.views)
    assert kpi(r, "+7 d") == fmt.thousands(metrics.views_gained_7d)
    interpolated = {d.day.isoformat() for d in days if d.is_interpolated}
    assert len(interpolated) == 2
    assert set(re.findall(r'<tr data-day="([^"]+)" class="interpolated">', r.text)) == interpolated
    assert r.text.count('class="marker interpolated"') == 2 * len(interpolated)  # both charts
    assert "youtube_api" in text(r)  # the route of its scrape attempt


def test_video_page_of_an_unknown_video_is_a_page_not_json(client):
    r = client.get("/videos/youtube:aaaaaaaaaaa")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "youtube:aaaaaaaaaaa is not in the registry" in text(r)
    assert client.get("/videos/not a video").status_code == 404


# --------------------------------------------------------------------------------------------------- writes


def test_writes_need_the_csrf_token(client):
    client.get("/videos")
    for path, form in [
        ("/videos/track", {"urls": "https://youtu.be/aaaaaaaaaaa"}),
        ("/videos/stop", {"id": RICK}),
        (f"/videos/{RICK}/labels", {"labels": "x"}),
        ("/share", {"label": "launch"}),
    ]:
        r = client.post(path, data={**form, "csrf": "forged"})
        assert r.status_code == 403 and "came from another site" in text(r), path
        assert client.post(path, data=form).status_code == 403


def test_paste_box_tracks_through_the_track_use_case_with_a_result_per_line(site, client):
    token = csrf_of(client.get("/videos"))
    pasted = "\n".join(["https://www.youtube.com/watch?v=bbbbbbbbbbb", "https://example.com/not-a-video", "", RICK])
    r = client.post("/videos/track", data={"urls": pasted, "labels": "pasted", "csrf": token}, follow_redirects=False)
    assert r.status_code == 200, text(r)
    statuses = re.findall(r'data-status="([a-z]+)"', r.text)
    assert statuses == ["created", "invalid", "updated"]
    assert "unsupported host" in text(r)
    # registered like `viewtrail track`: in the warehouse with its label and a first snapshot (simulated, offline)
    with duckdb.connect(str(site["data"] / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT labels FROM registry.videos WHERE video_id = 'youtube:bbbbbbbbbbb'").fetchone() == (
            ["pasted"],
        )
        snapshots = con.execute("SELECT count(*) FROM raw.snapshots WHERE video_id = 'youtube:bbbbbbbbbbb'").fetchone()
    assert snapshots == (1,)
    assert "first snapshot: ok" in text(r)
    # its page answers before the next build, from the registry
    assert client.get("/videos/youtube:bbbbbbbbbbb").status_code == 200
    assert "Paste at least one video link" in text(client.post("/videos/track", data={"urls": " \n", "csrf": token}))


def test_stop_resume_and_label_edits(site, client):
    token = csrf_of(client.get("/videos"))
    r = client.post(
        "/videos/stop", data={"id": QUIET, "csrf": token, "back": "/videos?sort=video"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/videos?sort=video"
    assert "stopped" in text(client.get(f"/videos/{QUIET}"))
    r = client.post("/videos/resume", data={"id": QUIET, "csrf": token, "back": "//evil.test/"}, follow_redirects=False)
    assert r.headers["location"] == "/videos"  # never another site
    assert "· tracked" in text(client.get(f"/videos/{QUIET}"))
    client.post(f"/videos/{QUIET}/labels", data={"labels": "old, promo ", "csrf": token})
    assert 'value="old, promo"' in client.get(f"/videos/{QUIET}").text
    assert "Tick at least one video" in text(client.post("/videos/stop", data={"csrf": token}))


# ----------------------------------------------------------------------------------------------------- access


def test_on_loopback_pages_open_without_login_with_a_strict_session_cookie(client):
    r = client.get("/videos")
    cookie = r.headers["set-cookie"]
    assert "vt_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert "set-cookie" not in client.get("/videos").headers  # the session is kept


def test_elsewhere_pages_need_a_login_with_an_api_key(site):
    store = site["app"].state.service.store
    read_record, read_key = store.create_key("viewer", "read")
    _, write_key = store.create_key("editor", "write")
    with TestClient(site["remote"], base_url="http://10.0.0.5:8000") as c:
        r = c.get("/videos?label=launch", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fvideos%3Flabel%3Dlaunch"
        assert c.get("/report/sl_nothing.x").status_code == 404  # share links need no login
        forged = c.post("/login", data={"key": read_key}, headers={"Origin": "https://evil.test"})
        assert forged.status_code == 403 and "set-cookie" not in forged.headers
        bad = c.post("/login", data={"key": "vt_wrong", "next": "/"})
        assert bad.status_code == 401 and "That API key is not valid" in text(bad)
        r = c.post("/login", data={"key": read_key, "next": "/videos?label=launch"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/videos?label=launch"
        assert "HttpOnly" in r.headers["set-cookie"]
        page = c.get("/videos")
        assert page.status_code == 200
        refused = c.post("/videos/stop", data={"id": RICK, "csrf": csrf_of(page)})
        assert refused.status_code == 403 and "read scope" in text(refused)
        store.revoke_key(read_record.id)
        assert c.get("/videos", follow_redirects=False).status_code == 303  # a revoked key's session ends
        c.post("/login", data={"key": write_key})
        page = c.get("/videos")
        assert c.post("/logout", data={"csrf": csrf_of(page)}, follow_redirects=False).headers["location"] == "/login"
        assert c.get("/", follow_redirects=False).status_code == 303
    # a session made on 127.0.0.1 without a login opens nothing on a server listening elsewhere
    with TestClient(site["app"], base_url="http://127.0.0.1:8000") as local:
        local.get("/")
        cookie = local.cookies.get("vt_session")
    with TestClient(site["remote"], base_url="http://10.0.0.5:8000", cookies={"vt_session": cookie}) as c:
        assert c.get("/", follow_redirects=False).status_code == 303


# ---------------------------------------------------------------------------------------------- share links


def test_share_link_shows_only_its_report_and_stops_when_revoked_or_expired(site, client):
    token = csrf_of(client.get("/share"))
    r = client.post("/share", data={"label": "launch", "days": "7", "csrf": token})
    assert r.status_code == 200, text(r)
    url = re.search(r'class="share-url" readonly value="([^"]+)"', r.text).group(1)
    path = url.removeprefix("http://127.0.0.1:8000")
    assert path.startswith("/report/sl_")
    with TestClient(site["app"]) as stranger:  # no session: the link alone opens it
        report = stranger.get(path)
        assert report.status_code == 200 and "Report: launch" in text(report)
        assert 'href="/videos' not in report.text and "<nav" not in report.text  # nothing else
        with copy(site) as con:
            label_days = marts.daily_rows(con, marts.Mart.LABEL_DAILY, {"label": "launch"})
        assert kpi(report, "Views") == fmt.thousands(label_days[-1]["views"])
        assert kpi(report, "Videos") == "2"
        assert stranger.get(path[:-3] + "abc").status_code == 404  # a tampered signature
        assert stranger.get("/report/garbage").status_code == 404
        with clock.pinned(NOW + timedelta(days=8)):
            expired = stranger.get(path)
        assert expired.status_code == 410 and "expired" in text(expired)
        link_id = path.removeprefix("/report/").split(".")[0]
        assert f'data-link="{link_id}" data-state="active"' in client.get("/share").text
        client.post(f"/share/{link_id}/revoke", data={"csrf": token})
        gone = stranger.get(path)
        assert gone.status_code == 410 and "revoked" in text(gone)
    assert "No video has the label 'nothing'" in text(client.post("/share", data={"label": "nothing", "csrf": token}))
    assert "1 to 365 days" in text(client.post("/share", data={"label": "launch", "days": "0", "csrf": token}))


def test_share_cli_creates_lists_and_revokes_links_the_server_honours_at_once(site, client):
    from typer.testing import CliRunner

    from viewtrail.cli import app as cli

    runner = CliRunner()
    made = runner.invoke(cli, ["share", "create", "launch", "--days", "3", "--base-url", "http://stats.test/"])
    assert made.exit_code == 0, made.output
    url = made.output.strip().splitlines()[-1]
    assert url.startswith("http://stats.test/report/sl_")
    path = url.removeprefix("http://stats.test")
    assert client.get(path).status_code == 200
    listed = runner.invoke(cli, ["share", "list", "--json"])
    link_id = path.removeprefix("/report/").split(".")[0]
    assert {"link_id": link_id, "label": "launch", "state": "active"}.items() <= next(
        row for row in json.loads(listed.output) if row["link_id"] == link_id
    ).items()
    assert path.split(".")[1] not in listed.output  # never the token
    revoked = runner.invoke(cli, ["share", "revoke", link_id])
    assert revoked.exit_code == 0 and f"{link_id} (launch) is revoked." in revoked.output
    assert client.get(path).status_code == 410
    unknown = runner.invoke(cli, ["share", "revoke", "sl_000000000000"])
    assert unknown.exit_code == 1 and "There is no share link 'sl_000000000000'" in unknown.output
    refused = runner.invoke(cli, ["share", "create", "nothing"])
    assert refused.exit_code == 1 and "Traceback" not in refused.output


# ------------------------------------------------------------------------------ accounts, creators, inbox


def test_accounts_and_account_page_show_the_marts_followers(site, client):
    r = client.get("/accounts")
    assert r.status_code == 200
    assert re.findall(r'<tr data-account="([^"]+)">', r.text) == ["instagram:solo", "tiktok:nasa", "youtube:esa"]
    nasa = re.search(r'data-account="tiktok:nasa">.*?data-col="followers">([^<]+)<', r.text, re.S).group(1)
    with copy(site) as con:
        latest = marts.account_latest(con, ["tiktok:nasa"])["tiktok:nasa"]
        days = marts.daily_rows(con, marts.Mart.ACCOUNT_METRICS_DAILY, {"account_id": "tiktok:nasa"})
    assert nasa.strip() == fmt.thousands(latest.followers) == "1,480"
    page = client.get("/accounts/tiktok:nasa")
    assert page.status_code == 200 and kpi(page, "Followers") == "1,480"
    assert 'data-series="followers"' in page.text
    assert page.text.count('class="marker interpolated"') == sum(1 for d in days if d["is_interpolated"]) == 1
    assert [a for a in re.findall(r'<tr data-account="([^"]+)">', client.get("/accounts?platform=youtube").text)] == [
        "youtube:esa"
    ]
    assert client.get("/accounts/tiktok:nobody").status_code == 404
    assert "platform must be one of" in text(client.get("/accounts?platform=myspace"))
    assert re.findall(r'<tr data-inbox="([^"]+)">', r.text) == [INBOX]


def test_inbox_accept_tracks_the_video_like_inbox_accept(site, client):
    token = csrf_of(client.get("/accounts"))
    assert client.post("/inbox", data={"id": INBOX, "decision": "accept"}).status_code == 403
    assert "Choose accept or reject" in text(client.post("/inbox", data={"id": INBOX, "csrf": token}))
    assert "Tick at least one" in text(client.post("/inbox", data={"decision": "reject", "csrf": token}))
    r = client.post("/inbox", data={"id": INBOX, "decision": "accept", "csrf": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/accounts?decided=accept"
    with duckdb.connect(str(site["data"] / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT status FROM registry.inbox WHERE video_id = ?", [INBOX]).fetchone() == ("accepted",)
        assert con.execute("SELECT is_active FROM registry.videos WHERE video_id = ?", [INBOX]).fetchone() == (True,)


def test_creators_and_creator_page(site, client):
    r = client.get("/creators")
    assert re.findall(r'<tr data-creator="([^"]+)">', r.text) == ["later-crew", "space-agency"]
    with copy(site) as con:
        latest = marts.creator_latest(con, ["space-agency"])["space-agency"]
    views = re.search(r'data-creator="space-agency">.*?data-col="views">([^<]+)<', r.text, re.S).group(1)
    assert views.strip() == fmt.thousands(latest.views)
    page = client.get("/creators/Space Agency")
    assert page.status_code == 200 and kpi(page, "Followers") == fmt.thousands(latest.followers)
    assert "tiktok:nasa" in page.text and "youtube:esa" in page.text
    split = re.search(r'data-split="followers">(.*?)</div>', page.text, re.S).group(1)
    parts = {k: float(v) for k, v in re.findall(r'data-part="([a-z]+)" data-share="([0-9.]+)"', split)}
    known = {k: v for k, v in latest.shares["followers"].items() if v}
    assert parts == pytest.approx({k: v / sum(known.values()) for k, v in known.items()}, abs=1e-4)
    assert "There is no creator 'nobody'" in text(client.get("/creators/nobody"))


# ------------------------------------------------------------------------------------------------- compare


def test_compare_puts_the_entities_on_one_chart_from_the_url_alone(site, client):
    r = client.get(f"/compare?kind=video&id={RICK}&id={LAUNCH}&metric=views&days=30")
    assert r.status_code == 200
    with copy(site) as con:
        rick = marts.video_days(con, video_id=RICK)
    series = dict(re.findall(r'<g class="series" data-series="([^"]+)" data-points="(\d+)"', r.text))
    assert set(series) == {RICK, LAUNCH} and int(series[RICK]) == len(rick)
    assert r.text == client.get(f"/compare?kind=video&id={RICK}&id={LAUNCH}&metric=views&days=30").text
    posted = client.get(f"/compare?kind=video&id={RICK}&id={LAUNCH}&align=posted")
    assert "days since posting" in posted.text
    labels = client.get("/compare?kind=label&id=launch&id=food&metric=views_gained")
    assert set(re.findall(r'<g class="series" data-series="([^"]+)"', labels.text)) == {"launch", "food"}
    accounts = client.get("/compare?kind=account&id=youtube:rick&id=tiktok:ana.cooks")
    assert accounts.status_code == 200
    assert "Pick 2 to 10" in text(client.get("/compare"))
    assert "Add at least one more" in text(client.get(f"/compare?id={RICK}"))
    assert "at most 10" in text(client.get("/compare?" + "&".join(f"id=x:{n}" for n in range(11))))
    assert "has no daily rows" in text(client.get("/compare?kind=label&id=launch&id=nothing"))
    assert "kind must be one of" in text(client.get("/compare?kind=planet&id=a&id=b"))


# --------------------------------------------------------------------------------- labels, alerts, health


def test_labels_page_shows_each_labels_views(site, client):
    r = client.get("/labels")
    assert re.findall(r'<tr data-label="([^"]+)">', r.text)[:2] == ["food", "launch"] or "launch" in r.text
    with copy(site) as con:
        launch = marts.daily_rows(con, marts.Mart.LABEL_DAILY, {"label": "launch"})[-1]
    cell = re.search(r'data-label="launch">.*?data-col="views">([^<]+)<', r.text, re.S).group(1)
    assert cell.strip() == fmt.thousands(launch["views"])


def test_alerts_page_lists_events_rules_and_channels_without_secrets(client):
    r = client.get("/alerts")
    page = text(r)
    assert "Rick passed 20,000 views" in page and "team: delivered" in page
    assert "milestone" in page and "team" in page
    assert SLACK_SECRET not in r.text and "SECRET" not in r.text
    assert "days must be a whole number from 1 to 366" in text(client.get("/alerts?days=0"))


def test_recent_alerts_say_when_the_alert_happened_not_when_it_was_evaluated(client):
    happened, evaluated = fmt.utc(ALERT_OCCURRED), fmt.utc(NOW - timedelta(days=2))
    for path in ("/", f"/videos/{RICK}"):
        (alerts,) = re.findall(r'<ul class="alerts">(.*?)</ul>', client.get(path).text, re.S)
        assert "Rick passed 20,000 views" in alerts
        assert happened in alerts and evaluated not in alerts, (path, alerts)


def test_health_page_counts_outcomes_and_says_what_to_try(client):
    r = client.get("/health")
    row = re.search(r'<tr data-platform="tiktok">(.*?)</tr>', r.text, re.S).group(1)
    cells = [c.strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert cells[1:6] == ["4", "75.0%", "4", "75.0%", "25.0%"]  # 24 h and 7 d: 3 ok of 4, 1 blocked
    assert cells[8] == "1"  # the challenge page
    assert "What to try next" in r.text and "<h3>tiktok</h3>" in r.text


def test_every_page_answers_without_a_traceback(client):
    for path in [
        "/",
        "/videos",
        f"/videos/{RICK}",
        "/accounts",
        "/creators",
        "/compare",
        "/labels",
        "/alerts",
        "/health",
        "/share",
        "/login",
    ]:
        r = client.get(path)
        assert r.status_code == 200, path
        assert "Traceback" not in r.text and "<html" in r.text
    assert client.get("/static/app.css").status_code == 200 and client.get("/static/app.js").status_code == 200
    missing = client.get("/nowhere", headers={"Accept": "text/html"})
    assert missing.status_code == 404 and "There is no page /nowhere" in text(missing)
    assert client.get("/nowhere").headers["content-type"].startswith("application/problem+json")  # API clients


def test_an_unexpected_failure_on_a_page_is_a_page_naming_the_request(site, monkeypatch):
    from viewtrail.dashboard import videos

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(videos.marts, "video_table", broken)
    with TestClient(site["app"], raise_server_exceptions=False) as c:
        r = c.get("/videos", headers={"X-Request-ID": "req-42"})
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/html")
    assert "request req-42" in text(r) and "boom" not in r.text and "Traceback" not in r.text


def test_the_apis_top_growth_ranks_like_the_videos_page(site, client):
    """The MCP tool's ranking and the Videos page sorted by a gain are one query of the mart reader."""
    service = site["app"].state.service
    for window in (1, 7, 14):
        page_ids = table_ids(client.get(f"/videos?sort=gained_{window}d"))
        with copy(site) as con:
            rows, _ = marts.video_table(con, marts.VideoFilter(), sort=f"gained_{window}d")
        gained = [r.video_id for r in rows if getattr(r, f"views_gained_{window}d") is not None]
        assert gained, window
        assert [v["video_id"] for v in service.top_growth(window_days=window)] == gained == page_ids[: len(gained)]
    assert service.top_growth(window_days=30) == []  # no video is 30 days observed: none has a 30-day gain
    assert [v["video_id"] for v in service.top_growth(window_days=7, label="nothing")] == []


def test_the_overview_follows_a_newly_published_copy(site, tmp_path):
    """The overview's aggregates are kept per published copy: a build replacing the copy shows at once."""
    import shutil
    from dataclasses import replace

    from viewtrail.dashboard.app import create_app

    published = tmp_path / "analytics.duckdb"
    shutil.copy(site["data"] / "analytics.duckdb", published)
    settings = replace(site["app"].state.service.settings, analytics_path=published)
    with TestClient(create_app(settings)) as c:
        before = kpi(c.get("/?days=7"), "Total views")
        assert before == kpi(c.get("/?days=7"), "Total views")
        rebuilt = tmp_path / "rebuilt.duckdb"
        shutil.copy(published, rebuilt)
        with duckdb.connect(str(rebuilt)) as con:  # video_daily is a view over the month files: a table here
            con.execute("CREATE TABLE marts.video_daily_rebuilt AS SELECT * FROM marts.video_daily")
            con.execute("DROP VIEW marts.video_daily")
            con.execute("ALTER TABLE marts.video_daily_rebuilt RENAME TO video_daily")
            con.execute("UPDATE marts.video_daily SET views = views + 1000 WHERE day = ?", [NOW.date()])
        rebuilt.replace(published)  # as publishing does: a new file renamed over the old one
        after = kpi(c.get("/?days=7"), "Total views")
    assert int(after.replace(",", "")) == int(before.replace(",", "")) + 1000 * 2  # RICK and LAUNCH have today


def test_serve_prepares_the_overview_before_the_first_visit(site, monkeypatch):
    """`viewtrail serve` computes the default overview in the background when it starts (and after each build):
    the first visit finds it ready and reads no mart."""
    import time

    from viewtrail.dashboard import common
    from viewtrail.dashboard.app import create_app

    monkeypatch.setattr(common, "_cache", common.OrderedDict())
    app = create_app(keep_warm=True)
    with TestClient(app) as c:  # starting the app starts the warm-up
        deadline = time.monotonic() + 60
        while not common._cache and time.monotonic() < deadline:
            time.sleep(0.05)
        assert common._cache, "the overview was not prepared"
        from viewtrail.dashboard import videos

        monkeypatch.setattr(videos, "mart_reader", lambda svc: pytest.fail("the overview read the marts again"))
        assert c.get("/").status_code == 200


def test_a_revocation_the_server_was_not_told_of_holds_once_published(site, tmp_path):
    """A `share revoke` stopped before it told the server: once a build publishes the revocation, the link is
    gone, whatever the server's store still says."""
    from dataclasses import replace
    from functools import partial

    from viewtrail.app import share_links
    from viewtrail.dashboard.app import create_app
    from viewtrail.dashboard.sharing import SIGNING_KEY, remember
    from viewtrail.pipeline.publish import publish
    from viewtrail.warehouse import open_warehouse

    settings = site["app"].state.service.settings
    store = site["app"].state.service.store
    opener = partial(open_warehouse, site["data"] / "warehouse.duckdb")
    link, token = share_links.create_share_link(
        "launch", 5, key=store.signing_key(SIGNING_KEY), open_warehouse=opener, after_write=remember(store)
    )
    share_links.revoke_share_link(link.link_id, open_warehouse=opener)  # no after_write: the server never heard
    with TestClient(create_app(replace(settings, analytics_path=tmp_path / "analytics.duckdb"))) as c:
        assert c.get(f"/report/{token}").status_code == 200  # not published yet: the store's row holds
        with opener() as con:
            publish(con, analytics_path=tmp_path / "analytics.duckdb", export_dir=tmp_path / "marts")
        assert c.get(f"/report/{token}").status_code == 410


def test_overview_content_calendar_and_posting_times(site, client):
    r = client.get("/?days=30")
    with copy(site) as con:
        posting = marts.posting_activity(con, start=NOW.date() - timedelta(days=29), end=NOW.date())
    posted = (NOW - timedelta(days=2)).date()
    assert posting.per_day == [(posted, 1)] or posting.per_day[-1] == (posted, 1)
    days = dict(re.findall(r'<rect data-day="([^"]+)" data-count="(\d+)"', r.text))
    assert len(days) == 30 and days[posted.isoformat()] == "1"
    assert {k: int(v) for k, v in days.items() if v != "0"} == {d.isoformat(): n for d, n in posting.per_day}
    cells = dict(re.findall(r'<rect data-cell="(\d+-\d+)" data-count="(\d+)"', r.text))
    assert len(cells) == 7 * 24
    assert cells[f"{posted.weekday()}-{NOW.hour}"] == "1"  # LAUNCH: posted 2 days ago at 14:30 UTC
