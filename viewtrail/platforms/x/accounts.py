"""X accounts: the web app's GraphQL user lookup with a guest token. Metrics only.

Wire format (``base_url`` defaults to ``https://api.x.com``):

* ``POST {base_url}/1.1/guest/activate.json`` with the web app's public bearer token -> ``{"guest_token": ..}``
  (kept for the client's lifetime, fetched again once when X refuses it);
* ``GET {base_url}/graphql/{queryId}/UserByScreenName?variables={"screen_name":..}&features=..&fieldToggles=..``
  or, once the account's ``rest_id`` is known (it survives renames), ``UserByRestId`` with ``{"userId": ..}``;
  headers ``Authorization: Bearer ..`` and ``x-guest-token``. ``data.user.result``: ``rest_id``, ``legacy``
  {screen_name, name, followers_count, friends_count, statuses_count, media_count, favourites_count (likes
  given)}; since 2026 ``legacy`` may be null with the fields at the top level and ``screen_name`` under ``core``.

X has no logged-out route for an account's recent posts (``UserTweets`` answers guests with an empty
timeline), so every result has ``videos_listed`` null and no videos. ``video_count`` is null too (X counts
posts and media, not videos): ``statuses_count`` and ``media_count`` go to ``extra``.

Outcomes: ``data`` without ``user`` -> ``not_found`` (no account has that name); ``UserUnavailable``
(suspended) -> ``private``; a refused guest token twice -> ``blocked``; 429 -> ``rate_limited``.
The queryIds rotate with X's web app: a 404 from GraphQL means they changed (``parse_error``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from viewtrail.domain.models import AccountObservation, AccountResult, AccountToDiscover, Outcome
from viewtrail.platforms.accounts.http import Call, HttpAccountClient
from viewtrail.platforms.base import ClientSettings
from viewtrail.platforms.http import Fetched, RunContext, json_object, to_count
from viewtrail.platforms.x.client import XClient

__all__ = ["XAccountClient", "graphql_user", "user_observation"]

#: The public bearer token of X's web app (the same for every visitor; yt-dlp ``TwitterBaseIE._AUTH``).
WEB_BEARER = "AAAAAAAAAAAAAAAAAAAAANRILgAAAAAAnNwIzUejRCOuH5E6I8xnZz4puTs%3D1Zv7ttfk8LF81IUq16cHjhLTvJu4FA33AGWWjCpTnA"
#: GraphQL operation ids of the web app (twscrape ``api.py``); they rotate.
USER_BY_SCREEN_NAME = "32pL5BWe9WKeSK1MoPvFQQ/UserByScreenName"
USER_BY_REST_ID = "5vdJ5sWkbSRDiiNZvwc2Yg/UserByRestId"
_FEATURES = {
    "hidden_profile_subscriptions_enabled": True,
    "rweb_tipjar_consumption_enabled": True,
    "responsive_web_graphql_exclude_directive_enabled": True,
    "verified_phone_label_enabled": False,
    "subscriptions_verification_info_is_identity_verified_enabled": True,
    "subscriptions_verification_info_verified_since_enabled": True,
    "highlights_tweets_tab_ui_enabled": True,
    "responsive_web_twitter_article_notes_tab_enabled": True,
    "subscriptions_feature_can_gift_premium": True,
    "creator_subscriptions_tweet_preview_api_enabled": True,
    "responsive_web_graphql_skip_user_profile_image_extensions_enabled": False,
    "responsive_web_graphql_timeline_navigation_enabled": True,
}
_FIELD_TOGGLES = {"withAuxiliaryUserLabels": False}
_BAD_GUEST_TOKEN_CODES = frozenset({239, 200})  # "Bad guest token", "Forbidden" (token expired)


def graphql_user(payload: Any) -> tuple[Outcome | None, str | None, dict[str, Any]]:
    """``(failure, detail, data.user.result)`` of a UserByScreenName / UserByRestId answer."""
    if not isinstance(payload, dict):
        return Outcome.PARSE_ERROR, "GraphQL answer is not an object", {}
    data = payload.get("data")
    if not isinstance(data, dict):
        messages = [e.get("message") for e in payload.get("errors") or [] if isinstance(e, dict)]
        return Outcome.PARSE_ERROR, f"GraphQL answer has no data ({'; '.join(map(str, messages))[:80]})", {}
    user = data.get("user")
    result = user.get("result") if isinstance(user, dict) else None
    if not user or result is None:
        return Outcome.NOT_FOUND, "no account has this name (GraphQL data without user)", {}
    if not isinstance(result, dict):
        return Outcome.PARSE_ERROR, "data.user.result is not an object", {}
    if result.get("__typename") == "UserUnavailable":
        return Outcome.PRIVATE, f"UserUnavailable ({str(result.get('reason') or 'unavailable')[:40]})", {}
    return None, None, result


def user_observation(account: AccountToDiscover, result: dict[str, Any], observed_at: datetime) -> AccountObservation:
    """Metrics of ``data.user.result``; ``KeyError``/``ValueError`` name the field that changed."""
    legacy = json_object(result, "legacy")
    core = json_object(result, "core")

    def field(key: str) -> Any:
        return legacy.get(key, result.get(key))

    if field("followers_count") is None:
        raise KeyError("data.user.result.legacy.followers_count missing")
    rest_id = result.get("rest_id")
    if not rest_id:
        raise KeyError("data.user.result.rest_id missing")
    extra: dict[str, Any] = {}
    for key, name in (("statuses_count", "posts"), ("media_count", "media_posts"), ("favourites_count", "likes_given")):
        if field(key) is not None:
            extra[name] = to_count(field(key), f"legacy.{key}")
    if field("protected") or (result.get("privacy") or {}).get("protected"):
        extra["protected"] = True
    return AccountObservation(
        account_id=account.account_id,
        observed_at=observed_at,
        followers=to_count(field("followers_count"), "legacy.followers_count"),
        following=to_count(field("friends_count"), "legacy.friends_count"),
        likes=None,  # X shows likes given (favourites_count), not received
        video_count=None,
        views=None,
        handle=core.get("screen_name") or field("screen_name") or account.handle,
        display_name=core.get("name") or field("name") or None,
        platform_account_id=str(rest_id),
        extra=extra,
    )


def _error_codes(fetched: Fetched) -> set[int]:
    try:
        payload = fetched.response.json() if fetched.response is not None else None
    except ValueError:
        return set()
    errors = payload.get("errors") if isinstance(payload, dict) else None
    return {e["code"] for e in errors or [] if isinstance(e, dict) and isinstance(e.get("code"), int)}


class XAccountClient(HttpAccountClient):
    wire_class = XClient
    source = "x_graphql"

    def __init__(self, settings: ClientSettings) -> None:
        super().__init__(settings)
        self._guest_token: str | None = None

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {WEB_BEARER}",
            "Accept": "application/json",
            "x-twitter-client-language": "en",
            "x-twitter-active-user": "yes",
            "Referer": "https://x.com/",
        }

    async def _activate(self, call: Call) -> Fetched:
        fetched = await self.get(call, "1.1/guest/activate.json", headers=self._headers(), method="POST")
        response = fetched.response
        if response is not None and response.status_code == 200:
            try:
                token = response.json().get("guest_token")
            except (ValueError, AttributeError):
                token = None
            self._guest_token = str(token) if token else None
        return fetched

    def _query(self, account: AccountToDiscover) -> tuple[str, dict[str, str]]:
        if account.platform_account_id:
            operation, variables = (
                USER_BY_REST_ID,
                {"userId": account.platform_account_id, "withSafetyModeUserFields": True},
            )
        else:
            handle = (account.handle or "").lstrip("@")
            operation, variables = USER_BY_SCREEN_NAME, {"screen_name": handle, "withSafetyModeUserFields": True}
        params = {
            "variables": json.dumps(variables, separators=(",", ":")),
            "features": json.dumps(_FEATURES, separators=(",", ":")),
            "fieldToggles": json.dumps(_FIELD_TOGGLES, separators=(",", ":")),
        }
        return f"graphql/{operation}", params

    async def _discover_one(self, account: AccountToDiscover, ctx: RunContext) -> AccountResult:
        call = self.begin(account)
        path, params = self._query(account)
        fetched: Fetched | None = None
        for _ in range(2):  # a refused guest token is replaced once
            if self._guest_token is None:
                activated = await self._activate(call)
                if self._guest_token is None:
                    failure = self.failure(call, activated, ctx)
                    status = activated.status
                    return failure or self.result(
                        call, Outcome.BLOCKED, ctx, detail=f"no guest token (guest/activate.json HTTP {status})"
                    )
            fetched = await self.get(
                call, path, params=params, headers={**self._headers(), "x-guest-token": self._guest_token or ""}
            )
            status = fetched.status
            if status in (401, 403) or (status == 200 and _error_codes(fetched) & _BAD_GUEST_TOKEN_CODES):
                self._guest_token = None
                continue
            break
        assert fetched is not None
        failure = self.failure(call, fetched, ctx)
        if failure is not None:
            return failure
        response = fetched.response
        assert response is not None
        if response.status_code in (401, 403):
            return self.result(
                call, Outcome.BLOCKED, ctx, detail=f"guest token refused twice (HTTP {response.status_code})"
            )
        if response.status_code == 404:
            return self.result(
                call, Outcome.PARSE_ERROR, ctx, detail=f"HTTP 404 from {path.split('/')[-1]}: queryId changed"
            )
        if response.status_code != 200:
            return self.result(call, Outcome.BLOCKED, ctx, detail=f"unexpected HTTP {response.status_code}")
        try:
            payload = response.json()
        except ValueError:
            return self.result(call, Outcome.PARSE_ERROR, ctx, detail="GraphQL answer is not JSON")
        outcome, detail, result = graphql_user(payload)
        if outcome is not None:
            return self.result(call, outcome, ctx, detail=detail)
        try:
            observation = user_observation(account, result, self.now())
        except (KeyError, ValueError, TypeError) as exc:
            return self.result(call, Outcome.PARSE_ERROR, ctx, detail=str(exc))
        return self.result(
            call, Outcome.OK, ctx, observation=observation, detail="X lists no posts logged out: metrics only"
        )
