"""Answer shapes both the video and the account routes send: JSON bodies, timestamps, YouTube's error envelope,
TikTok's page with its rehydration JSON and its WAF challenge page."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape
from typing import Any

from starlette.responses import Response


def iso_z(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch(at: datetime) -> int:
    return int(at.replace(tzinfo=UTC).timestamp())


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(data, ensure_ascii=False, separators=(",", ":")),
        status_code=status,
        headers=headers,
        media_type="application/json; charset=utf-8",
    )


def youtube_error(status: int, reason: str, message: str) -> Response:
    return json_response(
        {
            "error": {
                "code": status,
                "message": message,
                "errors": [
                    {
                        "message": message,
                        "domain": "youtube.quota" if reason == "quotaExceeded" else "global",
                        "reason": reason,
                    }
                ],
            }
        },
        status,
    )


TIKTOK_CHALLENGE = (
    '<!DOCTYPE html><html><head><meta charset="UTF-8"><title>Please wait...</title></head><body>'
    '<p>Please wait...</p><div id="cs" class="eyJ2IjoxfQ" style="display:none"></div>'
    '<div id="wci" class="_wafchallengeid" style="display:none"></div></body></html>'
)


def tiktok_page(detail: dict[str, Any], title: str = "TikTok", raw: str | None = None) -> str:
    body = (
        raw
        if raw is not None
        else json.dumps(
            {
                "__DEFAULT_SCOPE__": {
                    "webapp.app-context": {"language": "en", "region": "US"},
                    "webapp.video-detail": detail,
                },
                "__REMIX_VERSION__": "2.0.0",
            },
            ensure_ascii=False,
        ).replace("</", "<\\/")
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charSet="utf-8"/><title>{escape(title)} | TikTok</title></head>'
        f'<body><div id="app"></div><script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">'
        f"{body}</script></body></html>"
    )
