"""Cookies exported from a logged-in browser, for one platform's real client (``VIEWTRAIL_{P}_COOKIES_FILE``).

The file is a Netscape ``cookies.txt`` (yt-dlp's ``--cookies`` format, read with the standard library's
``http.cookiejar.MozillaCookieJar``), read when the client is built. Only the cookies of the platform's own
domains are kept (:data:`PLATFORM_COOKIE_DOMAINS`), so one file exported for every site can serve all the
platforms. Expiry dates are not checked (the platform decides whether a cookie still counts).

The client sends the kept cookies on every request to the platform's real domains and to the host of its
``base_url`` (a proxy or the fake platform server on 127.0.0.1 receive them too), never to any other host.
Cookie values are secrets: errors name the variable and the path, never a line of the file.
"""

from __future__ import annotations

import warnings
from http.cookiejar import Cookie, LoadError, MozillaCookieJar
from pathlib import Path

from viewtrail import config
from viewtrail.domain.models import Platform
from viewtrail.domain.platforms import platform_specs

__all__ = ["PLATFORM_COOKIE_DOMAINS", "is_platform_host", "load_platform_cookies"]

#: The registrable domains whose cookies each platform's client sends.
PLATFORM_COOKIE_DOMAINS: dict[Platform, tuple[str, ...]] = {
    Platform(spec.name): spec.cookie_domains for spec in platform_specs()
}


def is_platform_host(host: str, platform: Platform) -> bool:
    """Whether ``host`` (or a cookie domain such as ``.tiktok.com``) belongs to ``platform``'s domains."""
    host = host.lstrip(".").lower()
    return any(host == domain or host.endswith("." + domain) for domain in PLATFORM_COOKIE_DOMAINS[platform])


def load_platform_cookies(path: Path, platform: Platform) -> tuple[Cookie, ...]:
    """The cookies of ``path`` set by ``platform``'s domains; a one-sentence ``SettingsError`` when the file is
    missing, unreadable, not in the Netscape format or holds none of the platform's cookies."""
    variable = config.platform_variable(platform, "COOKIES_FILE")
    jar = MozillaCookieJar()
    try:
        with warnings.catch_warnings():  # the parser warns "http.cookiejar bug!" with a traceback on a bad line
            warnings.simplefilter("ignore")
            jar.load(str(path), ignore_discard=True, ignore_expires=True)
    except FileNotFoundError:
        raise config.SettingsError(
            f"{variable}={str(path)!r} does not exist: export the cookies again or fix the path."
        ) from None
    except (LoadError, UnicodeDecodeError, ValueError):
        # Never the parser's message: it quotes the offending line, cookie value included.
        raise config.SettingsError(
            f"{variable}={str(path)!r} is not a Netscape cookies.txt file: export it again in that format "
            "(the first line reads '# Netscape HTTP Cookie File')."
        ) from None
    except OSError as error:
        raise config.SettingsError(
            f"{variable}={str(path)!r} cannot be read ({error.strerror or type(error).__name__}): "
            "check the path and its permissions."
        ) from None
    domains = PLATFORM_COOKIE_DOMAINS[platform]
    kept = tuple(cookie for cookie in jar if is_platform_host(cookie.domain, platform) and cookie.value is not None)
    if not kept:
        raise config.SettingsError(
            f"{variable}={str(path)!r} holds no cookies for {' or '.join(domains)}: export them from a browser "
            f"logged in to {domains[0]}."
        )
    return kept
