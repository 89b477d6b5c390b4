"""The dashboard in a real browser, over a demo warehouse served by `viewtrail serve`: what it shows equals the
marts, what it does reaches the registry, and its links reproduce what they show. Each test leaves a screenshot
of its page in docs/dashboard/ (shown by docs/dashboard.md)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from browser_support import Browsing, Server


@contextmanager
def analyst_copy(server: Server) -> Iterator[duckdb.DuckDBPyConnection]:
    """The published analyst copy the pages read, read-only (any number of readers may open it)."""
    con = duckdb.connect(str(server.demo.analytics), read_only=True)
    try:
        yield con
    finally:
        con.close()


def number(text: str | None) -> int | None:
    """An exact number as the pages print it: '1,234,567' -> 1234567; the dash of a missing value -> None."""
    text = (text or "").replace(",", "").strip()
    return None if text in ("", "–", "-") else int(text)


@pytest.fixture(scope="module")
def read_key(server: Server) -> str:
    return json.loads(server.demo.viewtrail("api-key", "create", "--name", "browser-tests", "--json"))["key"]


def api(server: Server, key: str, path: str) -> Any:
    answer = server.get(path, headers={"Authorization": f"Bearer {key}"})
    return answer.status_code, (answer.json() if answer.content else None)


def test_overview_numbers_equal_the_marts(browsing: Browsing) -> None:
    page = browsing.page
    page.goto("/?days=7")
    page.locator('[data-kpi="Views gained"] .value').wait_for()
    start = date.fromisoformat(page.locator('input[name="start"]').input_value())
    end = date.fromisoformat(page.locator('input[name="end"]').input_value())

    def card(title: str) -> int | None:
        return number(page.locator(f'[data-kpi="{title}"] .value').get_attribute("data-exact"))

    with analyst_copy(browsing.server) as con:
        gained, last_day = con.execute(
            "SELECT sum(views_gained), max(day) FROM marts.video_daily WHERE day BETWEEN ? AND ?", [start, end]
        ).fetchone()
        total = con.execute("SELECT sum(views) FROM marts.video_daily WHERE day = ?", [last_day]).fetchone()[0]
        videos = con.execute("SELECT count(*) FROM marts.video_daily WHERE day = ?", [last_day]).fetchone()[0]
        top = con.execute(
            "SELECT video_id, sum(views_gained) AS gained FROM marts.video_daily WHERE day BETWEEN ? AND ?"
            " GROUP BY video_id ORDER BY gained DESC NULLS LAST, video_id LIMIT 10",
            [start, end],
        ).fetchall()
    # the demo's videos gained views this week and have views on the last day (only some of them when the clock
    # is early in the UTC day: that day has only the hours scraped so far)
    assert gained > 0 and total > 0
    assert card("Views gained") == gained
    assert card("Total views") == total
    assert card("Videos") == videos
    # the top videos, in order, with what each gained
    rows = page.locator("table.top-videos tbody tr")
    shown = [
        (
            (rows.nth(i).locator("a").get_attribute("href") or "").rsplit("/", 1)[-1],
            number(rows.nth(i).locator("td[data-value]").get_attribute("data-value")),
        )
        for i in range(rows.count())
    ]
    assert shown == [(video_id, gained) for video_id, gained in top]
    assert page.locator("svg").count() >= 2  # the chart and the cards' sparklines, drawn server-side
    assert page.get_by_text("Simulated data").is_visible()  # demo numbers are labelled as such
    browsing.screenshot(page, "overview", full_page=True)


def test_a_video_page_numbers_equal_the_marts(browsing: Browsing) -> None:
    page = browsing.page
    page.goto("/?days=7")
    first = page.locator("table.top-videos tbody tr a").first
    video_id = (first.get_attribute("href") or "").rsplit("/", 1)[-1]
    first.click()  # from the overview's top videos to the video's page
    page.wait_for_url(f"**/videos/{video_id}")
    page.locator('[data-kpi="Views"] .value').wait_for()
    with analyst_copy(browsing.server) as con:
        growth = con.execute(
            "SELECT views, views_gained_1d, views_gained_7d, views_gained_14d, views_gained_30d"
            " FROM marts.video_growth WHERE video_id = ?",
            [video_id],
        ).fetchone()
        days = dict(
            con.execute(
                "SELECT day::VARCHAR, views FROM marts.video_daily WHERE video_id = ? ORDER BY day", [video_id]
            ).fetchall()
        )
        interpolated = {
            str(d)
            for (d,) in con.execute(
                "SELECT day FROM marts.video_daily WHERE video_id = ? AND is_interpolated", [video_id]
            ).fetchall()
        }
    shown = [
        number(page.locator(f'[data-kpi="{kpi}"] .value').get_attribute("data-exact"))
        for kpi in ("Views", "+1 d", "+7 d", "+14 d", "+30 d")
    ]
    assert shown == list(growth)
    assert shown[0] and shown[1]  # a top video of the week has views and gained some yesterday
    rows = page.locator("table.days tbody tr[data-day]")
    assert rows.count() > 0
    for i in range(rows.count()):
        row = rows.nth(i)
        day = row.get_attribute("data-day") or ""
        assert number(row.locator("td").nth(1).inner_text()) == days[day], day
        assert ("interpolated" in (row.get_attribute("class") or "")) == (day in interpolated), day
    browsing.screenshot(page, "video")


def test_the_paste_box_tracks_videos_into_the_registry(browsing: Browsing, read_key: str) -> None:
    page = browsing.page
    page.goto("/videos")
    browsing.screenshot(page, "videos")
    links = [
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://www.tiktok.com/@scout2015/video/6718335390845095173",
        "not a video link",
    ]
    page.locator('textarea[name="urls"]').fill("\n".join(links))
    page.locator('section.paste input[name="labels"]').fill("pasted")
    page.locator("section.paste button").click()
    results = page.locator("table.results tbody tr")
    results.first.wait_for()
    statuses = [results.nth(i).get_attribute("data-status") for i in range(results.count())]
    assert statuses == ["created", "created", "invalid"]
    for i in (0, 1):  # tracked as `viewtrail track` does: the first snapshot taken at once
        assert "first snapshot: ok" in results.nth(i).inner_text()
    assert "not a video link" in results.nth(2).inner_text()  # the bad line says what was wrong, in its row
    browsing.screenshot(page, "paste-results")
    for video_id in ("youtube:dQw4w9WgXcQ", "tiktok:6718335390845095173"):
        status, body = api(browsing.server, read_key, f"/v1/videos/{video_id}")
        assert status == 200, body
        assert body["data"]["labels"] == ["pasted"] and body["data"]["is_active"]


def test_a_share_link_shows_only_its_report_and_stops_when_revoked(browser: Any, browsing: Browsing) -> None:
    page = browsing.page
    page.goto("/share")
    page.locator('form.share-create select[name="label"]').select_option("launch")
    page.locator("form.share-create button").click()
    url = page.locator("input.share-url").input_value()
    assert "/report/" in url
    browsing.screenshot(page, "share-links")

    # someone else, without the dashboard's session, opens the link
    stranger = Browsing.start(browser, browsing.server)
    try:
        report = stranger.page
        report.goto(url)
        report.locator("h1", has_text="Report: launch").wait_for()
        links = [a for a in report.locator("a").evaluate_all("els => els.map(e => e.getAttribute('href'))") if a]
        inside = [a for a in links if a.startswith(("/", "?")) or "127.0.0.1" in a]
        assert all(a.startswith("?") or "/report/" in a for a in inside), inside  # no way into the dashboard
        assert report.locator("nav a").count() == 0 and report.locator("form").count() == 0
        with analyst_copy(browsing.server) as con:
            labelled = con.execute(
                "SELECT count(*) FROM marts.video_latest WHERE list_contains(labels, 'launch')"
            ).fetchone()[0]
        assert number(report.locator('[data-kpi="Videos"] .value').get_attribute("data-exact")) == labelled
        browsing.screenshot(report, "report")

        page.goto("/share")
        page.locator("tr[data-state=active] button", has_text="Revoke").first.click()
        page.locator("tr[data-state=revoked]").first.wait_for()
        gone = report.goto(url)
        assert gone is not None and gone.status in (404, 410)
        assert report.get_by_role("alert").is_visible()
        assert report.locator("[data-kpi]").count() == 0
    finally:
        stranger.context.close()
    assert stranger.foreign == [] and stranger.errors == []


def _chart(page: Any) -> list[dict[str, Any]]:
    """The compare chart's series as drawn: name, point count, the paths and each marker's value."""
    return page.locator("svg.chart g.series").evaluate_all(
        """groups => groups.map(g => ({
            name: g.dataset.series,
            points: Number(g.dataset.points),
            paths: [...g.querySelectorAll('path')].map(p => p.getAttribute('d')),
            markers: [...g.querySelectorAll('circle title')].map(t => t.textContent),
        }))"""
    )


def test_a_compare_link_reproduces_its_chart(browser: Any, browsing: Browsing) -> None:
    page = browsing.page
    with analyst_copy(browsing.server) as con:
        (first, first_title), (second, second_title) = con.execute(
            "SELECT video_id, coalesce(title, video_id) FROM marts.video_latest ORDER BY views DESC NULLS LAST,"
            " video_id LIMIT 2"
        ).fetchall()
        # aligned by days since posting: every day from the posting on that has a gain (the first has none)
        gained = dict(
            con.execute(
                "SELECT video_id, count(d.views_gained) FROM marts.video_daily d JOIN marts.video_latest l"
                " USING (video_id) WHERE video_id IN (?, ?) AND d.day >= coalesce(l.posted_at::DATE, d.day)"
                " GROUP BY video_id",
                [first, second],
            ).fetchall()
        )
    page.goto("/compare")
    page.locator('select[name="kind"]').select_option("video")
    page.locator('input[name="id"]').nth(0).fill(first)
    page.locator('input[name="id"]').nth(1).fill(second)
    page.locator('select[name="metric"]').select_option("views_gained")
    page.locator('select[name="align"]').select_option("posted")
    page.locator("form.filters button").click()
    page.locator("svg.chart g.series").nth(1).wait_for()
    drawn = _chart(page)
    assert [s["name"] for s in drawn] == [first_title, second_title]
    assert [s["points"] for s in drawn] == [gained[first], gained[second]]
    link = page.url
    for expected in ("kind=video", f"id={first.replace(':', '%3A')}", "metric=views_gained", "align=posted"):
        assert expected in link, link
    browsing.screenshot(page, "compare")

    # the link, opened by someone else in a fresh browser, draws the same chart
    other = Browsing.start(browser, browsing.server)
    try:
        other.page.goto(link)
        other.page.locator("svg.chart g.series").nth(1).wait_for()
        assert _chart(other.page) == drawn
        assert other.page.locator('select[name="align"]').input_value() == "posted"
    finally:
        other.context.close()
    assert other.foreign == [] and other.errors == []


def test_ctrl_k_searches_and_the_keyboard_opens_a_video(browsing: Browsing) -> None:
    """The page script's search box: Ctrl-K focuses it from anywhere, typing part of a title lists the video,
    the arrow keys pick it and Enter opens its page."""
    with analyst_copy(browsing.server) as con:
        video_id, title = con.execute(
            "SELECT video_id, title FROM marts.video_latest WHERE title IS NOT NULL ORDER BY views DESC, video_id"
            " LIMIT 1"
        ).fetchone()
    page = browsing.page
    page.goto("/")
    page.locator("h1").wait_for()
    page.keyboard.press("Control+k")
    assert page.evaluate("document.activeElement.id") == "search"
    # typed at once: one input event, one request (keys typed one by one on a loaded machine could let a
    # shorter prefix's answer arrive last and redraw the list under the arrow keys)
    page.locator("#search").fill(title[:14])
    suggestion = page.locator("#search-results a", has_text=title).first
    suggestion.wait_for()
    browsing.screenshot(page, "search")
    for _ in range(page.locator("#search-results a").count()):  # down the list to that video
        page.keyboard.press("ArrowDown")
        if "active" in (suggestion.get_attribute("class") or ""):
            break
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/videos/{video_id}")
    assert page.locator("h1").inner_text() == title


def test_stop_and_resume_selected_videos_from_the_table(browsing: Browsing, read_key: str) -> None:
    page = browsing.page
    page.goto("/videos?sort=views&order=asc")
    video_id = page.locator("table.videos tbody tr").first.get_attribute("data-video")
    for button, active in (("Stop tracking selected", False), ("Resume selected", True)):
        page.locator(f'tr[data-video="{video_id}"] input[name="id"]').check()
        # the form posts, then the server sends the browser back to the same view (the URL it already shows)
        with page.expect_response(lambda r: r.request.method == "POST" and "/videos/" in r.url) as posted:
            page.get_by_role("button", name=button).click()
        assert posted.value.status == 303, posted.value.status
        page.wait_for_load_state("load")
        assert page.url.endswith("/videos?sort=views&order=asc")
        assert api(browsing.server, read_key, f"/v1/videos/{video_id}")[1]["data"]["is_active"] is active


def test_export_csv_downloads_every_video_of_the_filter_in_the_tables_order(browsing: Browsing) -> None:
    page = browsing.page
    page.goto("/videos?platform=youtube&sort=views&order=desc&size=5")
    total = number(page.locator("h1 .muted").inner_text().split()[0])
    shown = page.locator("table.videos tbody tr").evaluate_all("rows => rows.map(r => r.dataset.video)")
    assert total and total > len(shown) == 5  # the filter matches more than the page shows
    with page.expect_download() as started:
        page.get_by_role("link", name="Export CSV").click()
    download = started.value
    assert download.suggested_filename == "videos.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text())))
    assert len(rows) == total  # every video of the filter, not just the page
    assert {row["platform"] for row in rows} == {"youtube"}
    assert [row["video_id"] for row in rows[:5]] == shown  # in the table's order


def test_labels_edited_on_a_video_page_reach_the_registry(browsing: Browsing, read_key: str) -> None:
    page = browsing.page
    page.goto("/videos?sort=views&order=desc")
    video_id = page.locator("table.videos tbody tr").first.get_attribute("data-video")
    page.goto(f"/videos/{video_id}")
    box = page.locator('form.labels input[name="labels"]')
    before = [label.strip() for label in box.input_value().split(",") if label.strip()]
    box.fill(", ".join([*before, " browser-edit "]))  # its labels kept (other tests count them), one added
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/labels")):
        page.get_by_role("button", name="Save labels").click()
    page.wait_for_load_state("load")
    labels = api(browsing.server, read_key, f"/v1/videos/{video_id}")[1]["data"]["labels"]
    assert sorted(labels) == sorted([*before, "browser-edit"])
    assert page.locator('form.labels input[name="labels"]').input_value() == ", ".join(labels)


def test_the_discovery_inbox_accepts_and_rejects(browsing: Browsing) -> None:
    """The review-mode account's discovered videos wait in the inbox; accepted ones are tracked (first snapshot
    at once), rejected ones are not."""
    page = browsing.page
    page.goto("/accounts")
    waiting = page.locator("table.inbox tbody tr").evaluate_all("rows => rows.map(r => r.dataset.inbox)")
    assert len(waiting) >= 2, waiting  # the demo's review-mode account found new videos
    accept, reject = waiting[0], waiting[1]

    def registered(video_id: str) -> tuple[bool, ...] | None:
        # the live warehouse: the inbox's decisions reach the analyst copy (and so the pages) with the next build
        with duckdb.connect(str(browsing.server.demo.data / "warehouse.duckdb"), read_only=True) as con:
            row = con.execute("SELECT is_active FROM registry.videos WHERE video_id = ?", [video_id]).fetchone()
        return tuple(row) if row else None

    assert registered(accept) is None  # not tracked before the decision
    for video_id, decision in ((accept, "Accept and track"), (reject, "Reject")):
        page.goto("/accounts")
        page.locator(f'tr[data-inbox="{video_id}"] input[name="id"]').check()
        with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/inbox")):
            page.get_by_role("button", name=decision).click()
        page.locator('[role="status"]').first.wait_for()
    assert registered(accept) == (True,)
    assert registered(reject) is None


#: The pages the crawl below opens besides the navigation's (the read-only report has its own test).
EXTRA_PAGES = ("/docs", "/videos?sort=views&order=asc&col=views&col=gained_1d", "/?days=30&mode=cumulative")


def test_no_page_requests_anything_outside_127_0_0_1(browsing: Browsing) -> None:
    """Every page of the navigation, a video page and a few views of them load completely (scripts, styles,
    icons) with every request going to 127.0.0.1: the fixture fails the test on any other, or on a script error."""
    page = browsing.page
    page.goto("/videos")
    video = page.locator("table.videos tbody tr a").first.get_attribute("href")
    nav = page.locator("header nav a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert {"/", "/videos", "/share"} <= set(nav), nav
    shot = {"/accounts": "accounts", "/creators": "creators", "/labels": "labels", "/alerts": "alerts"}
    shot |= {"/health": "health", "/campaigns": "campaigns", "/payouts": "payouts", "/goals": "goals"}
    # the demo's creator program: its parent campaign's page
    shot |= {"/campaigns/spring-program": "campaign"}
    for href in [*nav, video, *EXTRA_PAGES, "/campaigns/spring-program"]:
        answer = page.goto(href, wait_until="networkidle")
        assert answer is not None and answer.ok, f"{href}: {answer.status if answer else 'no answer'}"
        if href in shot:
            browsing.screenshot(page, shot[href])
    # the detail pages of the account and the creator with the most tracked videos, reached from their tables
    with analyst_copy(browsing.server) as con:
        (account,) = con.execute(
            "SELECT account_id FROM marts.account_latest ORDER BY tracked_videos DESC NULLS LAST, account_id LIMIT 1"
        ).fetchone()
        (creator,) = con.execute(
            "SELECT creator_id FROM marts.creator_latest ORDER BY videos DESC NULLS LAST, creator_id LIMIT 1"
        ).fetchone()
    for table, key, name in (("/accounts", account, "account"), ("/creators", creator, "creator")):
        page.goto(table)
        page.locator(f'table.{table[1:]} a[href="{table}/{key}"]').first.click()
        page.wait_for_url(f"**{table}/{key}")
        page.wait_for_load_state("networkidle")
        browsing.screenshot(page, name)
