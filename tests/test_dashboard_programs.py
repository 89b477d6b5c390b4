"""The dashboard's creator-program pages (Campaigns, a campaign's page, Payouts, Goals) through FastAPI's
TestClient over a warehouse built by dbt and published: their numbers are the program use cases' and mart
readers', the CSV is the one ``viewtrail payouts export`` writes, "mark paid" needs the write scope and the CSRF
token and records the payment, and bad input is a visible sentence."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from html import unescape
from pathlib import Path

import duckdb
import pytest
from api_support import api_env
from dbt_support import dbt
from fastapi.testclient import TestClient
from programs_support import add_creator, add_video

from viewtrail import clock
from viewtrail.app import programs
from viewtrail.dashboard import fmt
from viewtrail.pipeline.publish import publish
from viewtrail.warehouse import marts, open_warehouse

pytestmark = pytest.mark.slow

POSTED = datetime(2027, 3, 1, 12)
NOW = datetime(2027, 3, 10)
BURST = datetime(2027, 3, 8, 9)  # ben's seven posts in one morning, two of them barely watched


def build(data: Path) -> None:
    warehouse = data / "warehouse.duckdb"
    dbt("build", "--exclude-resource-type", "unit_test", warehouse=warehouse)
    with open_warehouse(warehouse) as con:
        publish(con)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[dict]:
    with api_env(tmp_path_factory.mktemp("programs"), VIEWTRAIL_API_RATE_PER_MIN="100000") as data:
        warehouse = data / "warehouse.duckdb"

        def writer():
            return open_warehouse(warehouse)

        with clock.pinned(NOW):
            with open_warehouse(warehouse) as con:
                add_creator(con, "ana", "tiktok:ana")
                add_creator(con, "ben", "tiktok:ben")
                add_video(
                    con,
                    "tiktok:1",
                    account_id="tiktok:ana",
                    posted_at=POSTED,
                    snapshots=[(POSTED + timedelta(days=1), 1_200_000), (POSTED + timedelta(days=8), 3_600_000)],
                )
                for n in range(7):
                    views = 50 if n < 2 else 5_000
                    at = BURST + timedelta(minutes=10 * n)
                    add_video(
                        con,
                        f"tiktok:b{n}",
                        account_id="tiktok:ben",
                        posted_at=at,
                        snapshots=[(at + timedelta(hours=3), views)],
                    )
            programs.create_campaign(
                programs.CampaignRequest("Spring launch", target_views=2_000_000), open_warehouse=writer
            )
            programs.create_campaign(
                programs.CampaignRequest("Spring TikTok", parent="spring-launch"), open_warehouse=writer
            )
            programs.add_members("spring-tiktok", "creator", ["ana"], open_warehouse=writer)
            programs.set_terms(
                programs.TermsRequest("spring-tiktok", "50", effective_from=POSTED - timedelta(days=1)),
                open_warehouse=writer,
            )
            programs.finalize(open_warehouse=writer)
            programs.add_goal(
                programs.GoalRequest("ana", "posts", "week", 3, starts_on=NOW.date() - timedelta(days=2)),
                open_warehouse=writer,
            )
            build(data)
            from viewtrail.dashboard.app import create_app

            yield {"data": data, "app": create_app(), "remote": create_app(login_required=True)}


@pytest.fixture
def client(site) -> Iterator[TestClient]:
    with clock.pinned(NOW), TestClient(site["app"], base_url="http://127.0.0.1:8000") as c:
        yield c


def copy(site) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(site["data"] / "analytics.duckdb"), read_only=True)


def text(response) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", response.text)))


def row(response, attribute: str, value: str) -> str:
    match = re.search(rf'<tr[^>]*data-{attribute}="{re.escape(value)}"[^>]*>(.*?)</tr>', response.text, re.DOTALL)
    assert match, f"no row {attribute}={value!r}"
    return match.group(1)


def cell(row_html: str, column: str) -> str:
    match = re.search(rf'data-col="{column}">(.*?)</td>', row_html, re.DOTALL)
    assert match, f"no cell {column!r}"
    return unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()


def csrf_of(response) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', response.text)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def test_money_is_for_people():
    assert fmt.money(123_456_789, "USD") == "1,234,567.89 USD"
    assert fmt.money(-50, "EUR") == "−0.50 EUR"
    assert fmt.money(None, "USD") == "–"


def test_campaigns_page_nests_and_equals_the_marts(site, client):
    r = client.get("/campaigns")
    assert r.status_code == 200, r.text
    with copy(site) as con:
        totals = {t.campaign_id: t for t in marts.campaign_totals(con)}
        (balance,) = marts.creator_payouts(con, campaign_id="spring-tiktok")
    parent, child = row(r, "campaign", "spring-launch"), row(r, "campaign", "spring-tiktok")
    assert r.text.index('data-campaign="spring-launch"') < r.text.index('data-campaign="spring-tiktok"')
    assert 'class="tree-1" data-campaign="spring-tiktok"' in r.text  # the sub-campaign is indented under its parent
    assert cell(parent, "views") == fmt.thousands(totals["spring-launch"].views) == "3,600,000"
    assert cell(child, "videos") == fmt.thousands(totals["spring-tiktok"].videos)
    assert f"{fmt.percent(totals['spring-launch'].target_share)} of 2,000,000" in text(r)
    assert cell(child, "accrued") == fmt.money(balance.accrued_minor, balance.currency)
    assert cell(child, "due") == fmt.money(balance.due_minor, balance.currency) != "0.00 USD"


def test_campaign_page_has_its_daily_views_and_payouts(site, client):
    r = client.get("/campaigns/spring-launch?days=30")
    assert r.status_code == 200, r.text
    with copy(site) as con:
        days = marts.daily_rows(con, marts.Mart.CAMPAIGN_DAILY, {"campaign_id": "spring-launch"})
        (totals,) = marts.campaign_totals(con, "spring-launch")
    assert days, "the campaign has daily rows"
    assert re.search(r'data-kpi="Views".*?data-exact="([^"]*)"', r.text, re.DOTALL).group(1) == fmt.thousands(
        totals.views
    )
    assert "<svg" in r.text and "Spring TikTok" in text(r)
    child = client.get("/campaigns/spring-tiktok")
    with copy(site) as con:
        (payout,) = marts.video_payouts(con, campaign_id="spring-tiktok")
    video = row(child, "video", "tiktok:1")
    assert cell(video, "state") == payout.state
    assert cell(video, "amount") == fmt.money(payout.amount_minor, payout.currency)
    missing = client.get("/campaigns/nope")
    assert missing.status_code == 404 and "There is no campaign 'nope'" in text(missing)
    assert "days must be one of 7, 30, 90" in text(client.get("/campaigns/spring-launch?days=12"))


def test_payouts_page_filters_and_exports_what_the_cli_exports(site, client):
    r = client.get("/payouts?campaign=spring-tiktok")
    assert r.status_code == 200, r.text
    with copy(site) as con:
        (balance,) = marts.creator_payouts(con, campaign_id="spring-tiktok")
    line = row(r, "balance", "spring-tiktok/ana")
    for column, value in (("accrued", balance.accrued_minor), ("paid", balance.paid_minor), ("due", balance.due_minor)):
        assert cell(line, column) == fmt.money(value, balance.currency)
    assert "No video payouts match these filters" in text(client.get("/payouts?state=rejected"))
    bad = client.get("/payouts?state=lost")
    assert bad.status_code == 400 and "state must be one of active" in text(bad)
    exported = client.get("/payouts.csv?campaign=spring-tiktok")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    data = site["data"]
    rows = programs.video_payouts(
        campaign_id="spring-tiktok",
        open_warehouse=lambda: duckdb.connect(str(data / "analytics.duckdb"), read_only=True),
    )
    assert exported.text == programs.payouts_csv(rows) and "tiktok:1" in exported.text


def test_mark_paid_needs_write_scope_and_csrf_and_records_the_payment(site, client):
    page = client.get("/payouts?campaign=spring-tiktok")
    token = csrf_of(page)
    forged = client.post("/payouts/paid", data={"campaign": "spring-tiktok", "reference": "TR-1", "csrf": "forged"})
    assert forged.status_code == 403 and "reload the page" in text(forged)
    blank = client.post("/payouts/paid", data={"campaign": "spring-tiktok", "reference": " ", "csrf": token})
    assert blank.status_code == 400 and "Give the payment's reference" in text(blank)
    unknown = client.post("/payouts/paid", data={"campaign": "nope", "reference": "TR-1", "csrf": token})
    assert unknown.status_code == 400 and "nope" in text(unknown)

    from viewtrail.api.store import Store

    store: Store = site["remote"].state.service.store
    _, read_key = store.create_key("viewer", "read")
    with clock.pinned(NOW), TestClient(site["remote"], base_url="http://10.0.0.5:8000") as c:
        c.post("/login", data={"key": read_key})
        seen = c.get("/payouts")
        assert seen.status_code == 200 and "Mark paid" not in text(seen)
        refused = c.post(
            "/payouts/paid", data={"campaign": "spring-tiktok", "reference": "TR-1", "csrf": csrf_of(seen)}
        )
        assert refused.status_code == 403 and "read scope" in text(refused)

    with copy(site) as con:
        (before,) = marts.creator_payouts(con, campaign_id="spring-tiktok")
    paid = client.post("/payouts/paid", data={"campaign": "spring-tiktok", "reference": "TR-1", "csrf": token})
    assert paid.status_code == 200
    assert f"ana: {fmt.money(before.due_minor, before.currency)}" in text(paid) and "TR-1" in text(paid)
    with clock.pinned(NOW):
        build(site["data"])
    after = client.get("/payouts?campaign=spring-tiktok")
    line = row(after, "balance", "spring-tiktok/ana")
    assert cell(line, "due") == fmt.money(0, before.currency)
    assert cell(line, "paid") == fmt.money(before.due_minor, before.currency)
    again = client.post("/payouts/paid", data={"campaign": "spring-tiktok", "reference": "TR-2", "csrf": token})
    assert "Nothing was due in spring-tiktok" in text(again)


def test_goals_page_shows_status_flags_and_recent_overposting(site, client):
    r = client.get("/goals")
    assert r.status_code == 200, r.text
    with copy(site) as con:
        statuses = marts.goal_statuses(con, creator_id="ana")
        (incident,) = marts.overposting_days(con)
    latest = statuses[-1]
    goal = row(r, "goal", f"{latest.goal_id}/{latest.period_start}")
    assert cell(goal, "status") == latest.status
    assert cell(goal, "actual") == fmt.thousands(latest.actual)
    assert latest.period_in_progress and "in progress" in goal
    found = row(r, "incident", f"ben/{incident.day}")
    assert cell(found, "videos") == "7"
    assert incident.is_amber and 'class="amber"' in r.text
    assert "No goals for ben yet" in text(client.get("/goals?creator=ben"))
    for href in ("/campaigns", "/payouts", "/goals"):  # every page's menu leads to the program pages
        assert f'<a href="{href}"' in r.text


def test_empty_program_pages_say_what_to_do(tmp_path):
    with api_env(tmp_path) as data:
        from dbt_support import create_warehouse

        create_warehouse(data / "warehouse.duckdb")
        build(data)
        from viewtrail.dashboard.app import create_app

        with TestClient(create_app(), base_url="http://127.0.0.1:8000") as c:
            assert "No campaigns yet — create one with viewtrail campaign create" in text(c.get("/campaigns"))
            assert "No balances yet" in text(c.get("/payouts"))
            assert "No goals yet — add one with viewtrail goal add" in text(c.get("/goals"))
