"""The creator-program endpoints: campaigns and goals created over HTTP, payouts and goal status read from the
analyst copy after a build, payments recorded; bad input is an RFC 9457 problem."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from api_support import api_env, problem, running_api
from dbt_support import dbt
from programs_support import POSTED, add_program_creator

from viewtrail import clock
from viewtrail.app import programs
from viewtrail.pipeline.publish import publish
from viewtrail.warehouse import open_warehouse

NOW = datetime(2027, 3, 10)


def build_and_publish(warehouse: Path) -> None:
    dbt("build", "--exclude-resource-type", "unit_test", warehouse=warehouse)
    with open_warehouse(warehouse) as con:
        publish(con)


def test_a_program_over_http(tmp_path: Path) -> None:
    with api_env(tmp_path) as data, clock.pinned(NOW):
        warehouse = data / "warehouse.duckdb"
        with open_warehouse(warehouse) as con:
            add_program_creator(con, {"tiktok:1": [(POSTED + timedelta(days=8), 360_000)]})
        with running_api() as api, api.client(api.key("write")) as c:
            created = c.post("/v1/campaigns", json={"name": "Spring launch", "target_views": 300_000})
            assert created.status_code == 201, created.text
            assert created.json()["data"]["campaign_id"] == "spring-launch"
            problem(c.post("/v1/campaigns", json={"name": "Spring launch"}), 422, "VALIDATION_ERROR")
            problem(c.post("/v1/campaigns", json={"name": "Sub", "parent_id": "nope"}), 404, "NOT_FOUND")
            problem(c.post("/v1/goals", json={"creator_id": "zed", "metric": "posts", "target": 3}), 404, "NOT_FOUND")
            goal = c.post(
                "/v1/goals", json={"creator_id": "ana", "metric": "posts", "target": 3, "starts_on": "2027-03-08"}
            )
            assert goal.status_code == 201 and goal.json()["data"]["goal_id"] == 1

            added = c.post("/v1/campaigns/spring-launch/members", json={"kind": "creator", "members": ["ana"]})
            assert added.json()["data"] == {"added": 1}
            problem(
                c.post("/v1/campaigns/spring-launch/members", json={"kind": "video", "members": ["x:9"]}),
                422,
                "VALIDATION_ERROR",
            )
            bad_tiers = {"cpm": "0:20,0:40"}
            assert (
                "rise strictly"
                in problem(c.post("/v1/campaigns/spring-launch/terms", json=bad_tiers), 422, "VALIDATION_ERROR")[
                    "detail"
                ]
            )
            terms = {"cpm": "50", "cap_views": 500_000, "effective_from": "2027-03-01T13:00:00+01:00"}
            assert c.post("/v1/campaigns/spring-launch/terms", json=terms).json()["data"] == {"terms_id": 1}
            programs.finalize(open_warehouse=lambda: open_warehouse(warehouse))
            rejected = c.post(
                "/v1/campaigns/spring-launch/rejections", json={"video_ids": ["tiktok:1"], "reason": "dup"}
            )
            assert rejected.json()["data"] == ["tiktok:1"]
            back = c.post("/v1/campaigns/spring-launch/unrejections", json={"video_ids": ["tiktok:1"]})
            assert back.json()["data"] == ["tiktok:1"]
            bonus = {"creator_id": "ana", "amount": "-0.50", "reason": "caption fix"}
            assert c.post("/v1/campaigns/spring-launch/adjustments", json=bonus).status_code == 201
            problem(
                c.post("/v1/campaigns/spring-launch/adjustments", json={**bonus, "amount": "1.234"}),
                422,
                "VALIDATION_ERROR",
            )
            build_and_publish(warehouse)

            (payout,) = c.get("/v1/payouts", params={"campaign_id": "spring-launch"}).json()["data"]
            # 0 at posting .. 360,000 eight days later: 315,000 at the end of the 7-day window, interpolated
            assert (payout["state"], payout["payable_views"], payout["is_interpolated"]) == ("finalized", 315_000, True)
            assert (payout["amount_minor"], payout["currency"]) == (15_750, "USD")
            (campaign,) = c.get("/v1/campaigns").json()["data"]
            assert (campaign["views"], campaign["target_met"]) == (360_000, True)
            (status,) = c.get("/v1/goals/status", params={"creator_id": "ana"}).json()["data"]
            assert (status["actual"], status["status"]) == (0, "At Risk")
            problem(c.get("/v1/payouts", params={"state": "lost"}), 422, "VALIDATION_ERROR")

            paid = c.post("/v1/campaigns/spring-launch/payments", json={"reference": "TR-1"})
            assert paid.json()["data"] == [
                {
                    "creator_id": "ana",
                    "currency": "USD",
                    "videos": 1,
                    "amount_minor": 15_700,
                }  # the video less the adjustment
            ]
            problem(c.post("/v1/campaigns/nope/payments", json={"reference": "TR-1"}), 404, "NOT_FOUND")
            build_and_publish(warehouse)
            (balance,) = c.get("/v1/payouts/balances").json()["data"]
            assert (balance["adjustments_minor"], balance["paid_minor"], balance["due_minor"]) == (-50, 15_700, 0)
        assert_mcp_tools()


def assert_mcp_tools() -> None:
    """The MCP tools answer what the endpoints do (same service)."""
    import anyio
    from mcp import Client
    from test_api_mcp import structured

    from viewtrail.api.mcp_server import build_server

    async def scenario() -> None:
        async with Client(build_server()) as client:
            found = structured(await client.call_tool("payouts", {"campaign": "spring-launch"}))
            assert [(v["video_id"], v["state"], v["amount_minor"]) for v in found["videos"]] == [
                ("tiktok:1", "paid", 15_750)
            ]
            assert [b["due_minor"] for b in found["balances"]] == [0]
            (campaign,) = structured(await client.call_tool("campaigns", {}))["campaigns"]
            assert campaign["target_met"] is True
            (goal,) = structured(await client.call_tool("goal_status", {"creator": "ana"}))["goals"]
            assert goal["status"] == "At Risk"

    anyio.run(scenario)
