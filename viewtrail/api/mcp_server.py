"""``viewtrail mcp``: a Model Context Protocol server (stdio, the official ``mcp`` SDK) over the API's service.

Tools return JSON-able dicts; a user error (unknown video, invalid URL, busy warehouse) comes back as a tool
error carrying the same one-sentence message the HTTP API and the CLI give.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from typing import Any, ParamSpec, TypeVar, cast

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from . import service as svc
from .service import ApiProblem, Service
from .settings import api_settings

_Params = ParamSpec("_Params")
_Result = TypeVar("_Result")


def build_server(service: Service | None = None) -> MCPServer:
    service = service or Service(api_settings())
    server = MCPServer(
        "viewtrail",
        instructions="Social-video metrics from a self-hosted viewtrail warehouse: find tracked videos, read their "
        "daily history and growth, read watched accounts and creators, check the pipeline's status, "
        "track or stop videos, and read creator programs: campaigns, payouts and goal status.",
    )

    def call(fn: Callable[_Params, _Result], *args: _Params.args, **kwargs: _Params.kwargs) -> _Result:
        try:
            return fn(*args, **kwargs)
        except ApiProblem as error:
            raise ToolError(str(error)) from None  # a deliberate error: the client sees the sentence

    @server.tool()
    def find_videos(
        platform: str | None = None,
        label: str | None = None,
        account: str | None = None,
        active: bool | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        """Tracked videos with their latest counters and growth, filtered by platform, label, account, active."""
        page = call(
            service.list_videos,
            platform=platform,
            label=label,
            account=account,
            active=active,
            limit=max(1, min(limit, 200)),
        )
        return {"videos": page.items, "has_more": page.next_cursor is not None}

    @server.tool()
    def video_history(video: str, start_date: str | None = None, end_date: str | None = None) -> dict[str, Any]:
        """A video's daily rows (end-of-day counters, gains, is_interpolated); video is an id or any URL form."""
        start, end = _dates(start_date, end_date)
        video_id = call(service.resolve, video)
        return {"video_id": video_id, "days": call(service.history, video_id, start, end)}

    @server.tool()
    def find_accounts(
        platform: str | None = None,
        creator: str | None = None,
        label: str | None = None,
        active: bool | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        """Watched accounts with their creators and latest followers, posting rate and discovery outcome,
        filtered by platform, creator (name or id), label, active."""
        page = call(
            service.list_accounts,
            platform=platform,
            creator=creator,
            label=label,
            active=active,
            limit=max(1, min(limit, 200)),
        )
        return {"accounts": page.items, "has_more": page.next_cursor is not None}

    @server.tool()
    def creator_daily(creator: str, start_date: str | None = None, end_date: str | None = None) -> dict[str, Any]:
        """A creator (name or id) with its accounts and latest totals, and its daily rows summed over its accounts
        (views, engagements, followers, each platform's share)."""
        start, end = _dates(start_date, end_date)
        found = call(service.get_creator, creator)
        return {"creator": found, "days": call(service.creator_daily, found["creator_id"], start, end)}

    @server.tool()
    def top_growth(
        window_days: int = 7,
        label: str | None = None,
        platform: str | None = None,
        account: str | None = None,
        limit: int = 10,
    ) -> dict[str, Any]:
        """The videos that gained the most views over 1, 7, 14 or 30 days, by label, platform or account."""
        videos = call(
            service.top_growth,
            window_days=window_days,
            label=label,
            platform=platform,
            account=account,
            limit=max(1, min(limit, 100)),
        )
        return {"window_days": window_days, "videos": videos}

    @server.tool()
    def status() -> dict[str, Any]:
        """What `viewtrail status` shows: counts per platform, last successful scrape, failing and overdue videos."""
        return call(service.status)

    @server.tool()
    def track_video(
        url: str, labels: list[str] | None = None, cadence: str | None = None, days: int | None = None
    ) -> dict[str, Any]:
        """Track a video (any URL form); tracking a known one updates it (labels added) and resumes it."""
        created, video = call(service.create_video, url, labels=labels or [], cadence=cadence, days=days)
        return {"created": created, "video": video}

    @server.tool()
    def stop_video(video: str) -> dict[str, Any]:
        """Stop tracking a video (its history is kept)."""
        return {"video": call(service.stop, video)}

    @server.tool()
    def campaigns() -> dict[str, Any]:
        """Creator-program campaigns with their totals (sub-campaigns included, each video once) and target."""
        return {"campaigns": call(svc.list_campaigns, service)}

    @server.tool()
    def payouts(campaign: str | None = None, creator: str | None = None, state: str | None = None) -> dict[str, Any]:
        """Video payouts (state: active, finalizing, pending_terms, finalized, paid, rejected; amounts in minor
        units), and the per-creator balances (accrued, adjustments, paid, due), by campaign id and creator id."""
        return {
            "videos": call(svc.video_payouts, service, campaign, creator, state),
            "balances": call(svc.balances, service, campaign, creator),
        }

    @server.tool()
    def goal_status(creator: str | None = None, all_periods: bool = False) -> dict[str, Any]:
        """Creator goals' status (On Track, Behind Pace, At Risk, Completed, Missed) with pace and flags, for each
        goal's latest period (or every period)."""
        return {"goals": call(svc.goal_status, service, creator, all_periods)}

    return server


def tool_names() -> list[str]:
    """The names of the tools :func:`build_server` registers, in order (`viewtrail mcp --help` lists them). The
    tools are registered, never called, so no service (settings, key store) is needed."""
    server = build_server(service=cast(Service, object()))
    return [tool.name for tool in asyncio.run(server.list_tools())]


def _dates(start_date: str | None, end_date: str | None) -> tuple[date | None, date | None]:
    try:
        return (
            date.fromisoformat(start_date) if start_date else None,
            date.fromisoformat(end_date) if end_date else None,
        )
    except ValueError:
        raise ToolError("start_date and end_date must be dates like 2025-01-31.") from None
