"""`viewtrail mcp`'s tools, called in-process through the MCP SDK's own client."""

from __future__ import annotations

import json

import anyio
from api_support import api_env
from mcp import Client

from orchestration.api.mcp_server import build_server


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
                assert names == {"find_videos", "video_history", "top_growth", "status", "track_video", "stop_video"}
                tracked = structured(await client.call_tool("track_video", {"url": "https://youtu.be/dQw4w9WgXcQ",
                                                                             "labels": ["mcp"]}))  # fmt: skip
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
