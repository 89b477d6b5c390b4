"""The platform registry: every platform viewtrail tracks, described once by a :class:`PlatformSpec`.

Each platform lives in its own folder, ``viewtrail/platforms/<name>/``: its URL grammar (``urls.py``), video
client (``client.py``), account client (``accounts.py``) and its ``spec.py``, whose ``SPEC`` is what this module
registers. Everything that differs per platform is read from the specs: the :class:`~viewtrail.domain.models.Platform`
enum, the URL dispatch and the supported hosts named in error messages, the client factories and their polite
defaults, the settings (``VIEWTRAIL_{P}_*``), the Dagster resource and assets, and the dbt accepted values (checked
against the registry by ``tests/test_platform_registry.py``).

Where specs come from, in this order (the order of ``Platform`` and of the per-platform assets):

* the built-in platforms, :data:`BUILTIN_PLATFORMS`, each read from ``viewtrail.platforms.<name>.spec``;
* the entry points of the group ``viewtrail.platforms`` (``name = "package.module:SPEC"``), so a platform can ship
  as its own package.

Specs are loaded by module name on first use, and hold module names (not objects) for the URL grammar and the
clients: the domain stays plain Python, and reading the registry loads no HTTP library. A spec module imports
nothing but this module.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from types import MappingProxyType, ModuleType

__all__ = [
    "BUILTIN_PLATFORMS",
    "ENTRY_POINT_GROUP",
    "PlatformSpec",
    "load_object",
    "platform_spec",
    "platform_specs",
    "url_grammar",
]

#: The platforms shipped with viewtrail, in the order they are listed everywhere.
BUILTIN_PLATFORMS = ("tiktok", "youtube", "instagram", "x")

#: Entry-point group through which an installed package adds a platform (its value: ``"module:SPEC"``).
ENTRY_POINT_GROUP = "viewtrail.platforms"


@dataclass(frozen=True, slots=True, kw_only=True)
class PlatformSpec:
    """What viewtrail needs to know about one platform; module paths are loaded only when used."""

    name: str  # stored value and video-id prefix ("tiktok"); lower-case letters only
    display_name: str  # in sentences for the user ("TikTok")
    hosts: frozenset[str]  # every host whose links belong to the platform (short-link hosts included)
    grammar: str  # module of the URL grammar: see ``viewtrail.domain.urls`` for what it provides
    video_client: str  # "module:Class" of the real video client (takes a ClientSettings)
    account_client: str  # "module:Class" of the real account client (takes a ClientSettings)
    base_url: str  # production endpoint of the real video client
    video_example: str  # a video link as shown in hints ("https://www.tiktok.com/@user/video/<id>")
    account_example: str  # an account link as shown in hints
    aliases: tuple[str, ...] = ()  # other names accepted on the command line ("tt", "twitter")
    article: str = "a"  # "an" before the display name ("an Instagram post")
    post_word: str = "video"  # what one tracked item is called ("post" on Instagram and X)
    account_word: str = "profile"  # what an account is called ("channel" on YouTube)
    account_link_word: str = "account"  # in "a TikTok account link" ("channel" on YouTube)
    account_base_url: str | None = None  # the account client's endpoint when it differs from ``base_url``
    concurrency: int = 4  # polite default: requests in flight
    rate_per_min: float = 60.0  # polite default: requests per minute
    cookie_domains: tuple[str, ...] = ()  # registrable domains whose cookies the clients send
    #: ClientSettings field -> the variable holding the platform's secret (``{"api_key": "YOUTUBE_API_KEY"}``).
    secrets: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    resolves_short_links: bool = False  # short links (TikTok's vm.tiktok.com) wait for a redirect lookup
    #: The hosts yt-dlp's extractor for the platform calls, each with the ClientSettings field naming the endpoint
    #: that stands in for it when that endpoint is configured (``{"www.tiktok.com": "base_url"}``): with
    #: ``VIEWTRAIL_{P}_BASE_URL`` set, the ytdlp backend sends those hosts' requests there and no others.
    extractor_hosts: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the platform is known by on the command line: its own, then its aliases."""
        return (self.name, *self.aliases)

    def phrase(self, noun: str) -> str:
        """``"an Instagram post"`` for ``"post"``."""
        return f"{self.article} {self.display_name} {noun}"


_loaded: tuple[PlatformSpec, ...] | None = None


def load_object(path: str) -> object:
    """The object named by ``"package.module:attribute"``."""
    module_name, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def _discovered() -> list[PlatformSpec]:
    found = [load_object(f"viewtrail.platforms.{name}.spec:SPEC") for name in BUILTIN_PLATFORMS]
    found += [entry.load() for entry in entry_points(group=ENTRY_POINT_GROUP)]
    specs: list[PlatformSpec] = []
    for spec in found:
        if not isinstance(spec, PlatformSpec):
            raise TypeError(f"{spec!r} is not a PlatformSpec")
        if not spec.name.isalpha() or not spec.name.islower():
            raise ValueError(f"platform name {spec.name!r}: use lower-case letters only (it prefixes video ids)")
        taken = {name for other in specs for name in other.names}
        clash = taken & set(spec.names)
        if clash:
            raise ValueError(f"platform {spec.name!r}: name {sorted(clash)[0]!r} is already registered")
        hosts = {host for other in specs for host in other.hosts} & spec.hosts
        if hosts:
            raise ValueError(f"platform {spec.name!r}: host {sorted(hosts)[0]!r} belongs to another platform")
        specs.append(spec)
    return specs


def platform_specs() -> tuple[PlatformSpec, ...]:
    """Every registered platform, in registry order."""
    global _loaded
    if _loaded is None:
        _loaded = tuple(_discovered())
    return _loaded


def platform_spec(name: str) -> PlatformSpec:
    """The spec of the platform whose value is ``name`` (``Platform`` members are such names)."""
    for spec in platform_specs():
        if spec.name == name:
            return spec
    raise KeyError(name)


_grammars: dict[str, ModuleType] = {}


def url_grammar(name: str) -> ModuleType:
    """The URL grammar module of platform ``name``, imported on first use."""
    grammar = _grammars.get(name)
    if grammar is None:
        grammar = _grammars[name] = importlib.import_module(platform_spec(name).grammar)
    return grammar
