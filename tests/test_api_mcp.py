"""`viewtrail mcp`'s tools, called in-process through the MCP SDK's own client."""

from __future__ import annotations

import json

import anyio
from api_support import api_env, publish_watched_accounts
from mcp import Client

from viewtrail.api.mcp_server import build_server


def structured(result):
    assert not result.is_error, result
    if result.structured_content is not None:
        return result.structured_content
    return json.loads(result.content[0].text)


def test_tools_track_find_history_top_growth_status_stop(tmp_path):
    with api_env(tmp_path):
        server = build_server()

        async def scenario():
            async with Client(server) as client:
                names = {tool.name for tool in (await client.list_tools()).tools}
                assert names == {
                    "find_videos",
                    "video_history",
                    "top_growth",
                    "status",
                    "track_video",
                    "stop_video",
                    "find_accounts",
                    "creator_daily",
                    "campaigns",
                    "payouts",
                    "goal_status",
                }
                tracked = structured(
                    await client.call_tool("track_video", {"url": "https://youtu.be/dQw4w9WgXcQ", "labels": ["mcp"]})
                )
                assert tracked["created"] is True and tracked["video"]["video_id"] == "youtube:dQw4w9WgXcQ"
                found = structured(await client.call_tool("find_videos", {"label": "mcp"}))
                assert [v["video_id"] for v in found["videos"]] == ["youtube:dQw4w9WgXcQ"]
                history = structured(await client.call_tool("video_history", {"video": "https://youtu.be/dQw4w9WgXcQ"}))
                assert history == {"video_id": "youtube:dQw4w9WgXcQ", "days": []}
                top = structured(await client.call_tool("top_growth", {"window_days": 7}))
                assert top == {"window_days": 7, "videos": []}
                status = structured(await client.call_tool("status", {}))
                assert {p["platform"] for p in status["platforms"]} == {"tiktok", "youtube", "instagram", "x"}
                stopped = structured(await client.call_tool("stop_video", {"video": "youtube:dQw4w9WgXcQ"}))
                assert stopped["video"]["is_active"] is False
                bad = await client.call_tool("track_video", {"url": "https://example.com/v/1"})
                assert bad.is_error and "unsupported host" in bad.content[0].text
                unknown = await client.call_tool("video_history", {"video": "x:42"})
                assert unknown.is_error and "not in the registry" in unknown.content[0].text

        anyio.run(scenario)


def test_tools_find_accounts_and_creator_daily(tmp_path):
    with api_env(tmp_path) as data:
        publish_watched_accounts(data)
        server = build_server()

        async def scenario():
            async with Client(server) as client:
                found = structured(await client.call_tool("find_accounts", {"creator": "Space Agency"}))
                assert found["has_more"] is False
                assert [(a["account_id"], a["latest"]["followers"]) for a in found["accounts"]] == [
                    ("tiktok:nasa", 1480),
                    ("youtube:esa", 500),
                ]
                one = structured(await client.call_tool("find_accounts", {"platform": "instagram", "limit": 1}))
                assert [a["account_id"] for a in one["accounts"]] == ["instagram:solo"]
                daily = structured(
                    await client.call_tool("creator_daily", {"creator": "space-agency", "start_date": "2026-11-02"})
                )
                assert daily["creator"]["account_ids"] == ["tiktok:nasa", "youtube:esa"]
                assert [(d["day"], d["followers"]) for d in daily["days"]] == [
                    ("2026-11-02", 1860),
                    ("2026-11-03", 1480),
                ]
                unknown = await client.call_tool("creator_daily", {"creator": "Nobody"})
                assert unknown.is_error and "no creator 'Nobody'" in unknown.content[0].text
                bad = await client.call_tool("find_accounts", {"platform": "myspace"})
                assert bad.is_error and "myspace" in bad.content[0].text
                bad_date = await client.call_tool("creator_daily", {"creator": "space-agency", "end_date": "May"})
                assert bad_date.is_error and "2025-01-31" in bad_date.content[0].text

        anyio.run(scenario)
