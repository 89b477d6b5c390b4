"""viewtrail's outcome for an error yt-dlp raised, read from its message.

yt-dlp tells its cases apart only in prose (``ExtractorError``, wrapped by ``DownloadError`` as
``ERROR: [TikTok] 7123: ...``), so the rules below match the sentences its extractors raise (yt-dlp's
``extractor/{tiktok,youtube,instagram,twitter}.py``) and the ``HTTP Error NNN`` text of its network layer. The
first rule that matches wins; a message no rule knows is a ``parse_error`` (the extractor met a page it no
longer understands), which is also what an upgrade of yt-dlp is for. ``tests/test_ytdlp_outcomes.py`` holds
the messages as yt-dlp raised them.
"""

from __future__ import annotations

import re

from viewtrail.domain.models import Outcome

__all__ = ["RULES", "classify_message"]

_ = re.IGNORECASE

#: (pattern, outcome), in order: the more specific sentences before the generic HTTP statuses.
RULES: tuple[tuple[re.Pattern[str], Outcome], ...] = (
    # rate limits first: Instagram's login redirect "You have exceeded the rate-limit ..." is one
    (re.compile(r"HTTP Error 429|Too Many Requests|rate.limit", _), Outcome.RATE_LIMITED),
    (
        re.compile(
            r"not (?:made this video )?available in your (?:country|region)|geo.?restrict|"
            r"blocked (?:it )?in your country|only available (?:in|from) (?:certain|some) (?:countries|regions)",
            _,
        ),
        Outcome.GEO_RESTRICTED,
    ),
    # "Sign in to confirm you're not a bot", TikTok's 10204 ("Your IP address is blocked ..."): about us
    (
        re.compile(
            r"confirm you.re not a bot|IP address is blocked|Unable to extract challenge|solve JS challenge|"
            r"HTTP Error 403|HTTP Error 401|locked behind the login page|empty media response",
            _,
        ),
        Outcome.BLOCKED,
    ),
    (
        re.compile(
            r"Private video|video is private|do not have permission to view|protected tweet|"
            r"only available for registered users who follow|limits who can view",
            _,
        ),
        Outcome.PRIVATE,
    ),
    (
        re.compile(
            r"confirm your age|age.restricted|requires? authentication|requiring login|Log in for access|"
            r"login required|account cookies|--cookies|members.only|Join this channel",
            _,
        ),
        Outcome.LOGIN_REQUIRED,
    ),
    (
        re.compile(
            r"HTTP Error 404|HTTP Error 410|Video unavailable|has been removed|was deleted|does not exist|"
            r"isn.t available anymore|"
            r"status code 10202|no longer available|Requested tweet is unavailable|account (?:has been )?terminated",
            _,
        ),
        Outcome.NOT_FOUND,
    ),
    (re.compile(r"HTTP Error 5\d\d", _), Outcome.UPSTREAM_ERROR),
    (re.compile(r"timed? ?out", _), Outcome.TIMEOUT),
)


def classify_message(message: str) -> Outcome:
    """The outcome of a yt-dlp error message; ``parse_error`` when no rule knows it."""
    for pattern, outcome in RULES:
        if pattern.search(message):
            return outcome
    return Outcome.PARSE_ERROR
