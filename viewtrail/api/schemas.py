"""Every request and response body of the HTTP API, in one module: the OpenAPI document is generated from these,
and the handlers return instances of them, so what the document says is what the API sends.

Field order is wire order (a body's bytes, and so its ETag, follow it). The literal types are derived from the
registries they name (:class:`~viewtrail.domain.models.Platform`, :class:`~viewtrail.domain.models.DiscoveryMode`,
:data:`PROBLEM_TITLES`), never typed again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema, create_model

from viewtrail.domain.models import DiscoveryMode, Platform
from viewtrail.warehouse import marts, programs
from viewtrail.warehouse.registry import MAX_DAYS, MAX_LABEL_CHARS

#: Each problem code with its RFC 9457 title.
PROBLEM_TITLES = {
    "BAD_REQUEST": "Bad request",
    "UNAUTHORIZED": "Unauthorized",
    "FORBIDDEN": "Forbidden",
    "INSUFFICIENT_SCOPE": "Insufficient scope",
    "NOT_FOUND": "Not found",
    "CONFLICT": "Conflict",
    "VALIDATION_ERROR": "Validation error",
    "RATE_LIMITED": "Too many requests",
    "INTERNAL_ERROR": "Internal error",
    "SERVICE_UNAVAILABLE": "Service unavailable",
}


def _one_of(values: Iterable[str]) -> Any:
    """``Literal[...]`` of ``values``: an inline ``enum`` in the OpenAPI document, checked on input."""
    return Literal.__getitem__(tuple(values))


if TYPE_CHECKING:  # mypy cannot follow a literal built at run time; it sees the strings these are
    PlatformName = str
    DiscoveryName = str
    ProblemCode = str
else:
    PlatformName = _one_of(platform.value for platform in Platform)
    DiscoveryName = _one_of(mode.value for mode in DiscoveryMode)
    ProblemCode = _one_of(PROBLEM_TITLES)

#: A JSON number as the warehouse gives it: DuckDB's whole-number sums stay integers on the wire (``1000``, not
#: ``1000.0``), fractions stay floats; documented as ``number``.
Number = Annotated[int | float, WithJsonSchema({"type": "number"})]

#: A label: at most MAX_LABEL_CHARS characters, no control characters (the registry's rule, in the schema).
LabelText = Annotated[str, StringConstraints(max_length=MAX_LABEL_CHARS, pattern=r"^[^\x00-\x1f\x7f-\x9f]*$")]


# -------------------------------------------------------------------------------------------------- problems


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    code: ProblemCode
    instance: str
    request_id: str
    errors: list[FieldError] | None = None


# ---------------------------------------------------------------------------------------------------- shared


class Pagination(BaseModel):
    next_cursor: str | None
    has_next: bool
    limit: int
    total_count: int | None = Field(None, exclude_if=lambda total: total is None)  # counted on include_total=true


class Rows(BaseModel):
    data: list[dict[str, Any]]


class RowPage(BaseModel):
    data: list[dict[str, Any]]
    pagination: Pagination


# ------------------------------------------------------------------------------------------------------ meta


class Health(BaseModel):
    status: Literal["ok"]
    analytics_copy: bool


class StatusEnvelope(BaseModel):
    data: dict[str, Any]


# ---------------------------------------------------------------------------------------------------- videos


class Latest(BaseModel):
    observed_at: str
    views: int | None
    likes: int | None
    comments: int | None
    shares: int | None
    saves: int | None


class Growth(BaseModel):
    increase_1d: int | None
    increase_7d: int | None
    increase_14d: int | None
    increase_30d: int | None
    outlier_multiplier: Number | None
    engagement_rate: Number | None


class Video(BaseModel):
    video_id: str
    platform: PlatformName
    external_id: str
    url: str | None
    account: str | None
    is_active: bool
    cadence: str
    track_until: str | None
    labels: list[str]
    metadata: dict[str, Any]
    added_at: str
    updated_at: str
    stopped_at: str | None
    latest: Latest | None
    growth: Growth | None


class VideoEnvelope(BaseModel):
    data: Video


class VideoList(BaseModel):
    data: list[Video]
    pagination: Pagination


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cadence: str | int | None = Field(None, description="'auto' or hours between snapshots, 1..720")
    days: int | None = Field(None, ge=1, le=MAX_DAYS, description=f"stop tracking after N days, 1..{MAX_DAYS}")
    labels: list[LabelText] = Field(default_factory=list, max_length=100)


class CreateVideo(Options):
    url: str = Field(max_length=2048, description="any URL form the CLI accepts, or a video id")
    platform: PlatformName | None = None
    metadata: dict[str, Any] | None = None


class BulkCreate(Options):
    urls: list[str] = Field(min_length=1, max_length=1000)


class BulkItem(BaseModel):
    index: int
    url: str
    status: Literal["created", "updated", "invalid"]
    video_id: str | None
    reason: str | None


class BulkResult(BaseModel):
    data: list[BulkItem]


class PatchVideo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    labels: list[LabelText] | None = Field(None, max_length=100)
    metadata: dict[str, Any] | None = None
    cadence: str | int | None = None
    is_active: bool | None = None
    track_until: datetime | None = None


class BulkStop(BaseModel):
    ids: list[str] = Field(min_length=1, max_length=1000)


class StopItem(BaseModel):
    index: int
    id: str
    video_id: str | None
    status: Literal["stopped", "already_stopped", "unknown"]


class StopResult(BaseModel):
    data: list[StopItem]


class Deleted(BaseModel):
    video_id: str
    deleted: bool
    snapshots_deleted: int


class DeletedEnvelope(BaseModel):
    data: Deleted


class ScrapeQueued(BaseModel):
    request_id: str | None
    video_ids: list[str]
    status: Literal["queued"]


class ScrapeEnvelope(BaseModel):
    data: ScrapeQueued


# ---------------------------------------------------------------------------------------------------- groups


class Label(BaseModel):
    label: str
    videos: int
    active_videos: int


class Labels(BaseModel):
    data: list[Label]


# ------------------------------------------------------------------------------------- accounts and creators


class AccountLatest(BaseModel):
    display_name: str | None
    first_observed_at: str | None
    last_observed_at: str | None
    median_video_views: Number | None
    posts_per_week: Number | None
    last_posted_at: str | None
    as_of_at: str | None
    last_attempt_at: str | None
    last_outcome: str | None
    followers: int | None
    following: int | None
    likes: int | None
    video_count: int | None
    views: int | None
    followers_gained_7d: int | None
    followers_gained_30d: int | None
    tracked_videos: int | None
    tracked_video_views: int | None
    tracked_video_engagements: int | None
    snapshot_count: int | None
    consecutive_failures: int | None


class WatchedAccount(BaseModel):
    account_id: str
    platform: PlatformName
    handle: str | None
    platform_account_id: str | None
    url: str
    is_active: bool
    discovery: DiscoveryName
    latest_n: int
    since: str | None
    discovery_cadence_hours: Number
    video_cadence: str
    labels: list[str]
    metadata: dict[str, Any]
    creators: list[str]
    added_at: str
    updated_at: str
    stopped_at: str | None
    latest: AccountLatest | None


class WatchedAccountEnvelope(BaseModel):
    data: WatchedAccount


class WatchedAccountList(BaseModel):
    data: list[WatchedAccount]
    pagination: Pagination


def _row_model(name: str, row: type, **overrides: Any) -> type[BaseModel]:
    """The response model of a marts reader row: its fields, types and order, under the API's own schema name.
    ``overrides``: the fields that go out otherwise (``name=(type, default or Field)``), e.g. datetimes as the ISO
    strings the service writes, or a closed set of values as a Literal."""
    unknown = set(overrides) - {f.name for f in dataclasses.fields(row)}
    assert not unknown, f"{row.__name__} has no field(s) {sorted(unknown)}"
    hints = get_type_hints(row)
    fields: dict[str, Any] = {f.name: overrides.get(f.name, (hints[f.name], ...)) for f in dataclasses.fields(row)}
    return create_model(name, __module__=__name__, **fields)


if TYPE_CHECKING:
    PlatformShares = BaseModel
else:  # one share per platform, in the registry's order
    PlatformShares = create_model(
        "PlatformShares", __module__=__name__, **{platform.value: (Number | None, ...) for platform in Platform}
    )


class CreatorShares(BaseModel):
    views: PlatformShares
    engagements: PlatformShares
    followers: PlatformShares


class CreatorLatest(BaseModel):
    accounts: int | None
    videos: int | None
    views: int | None
    engagements: int | None
    followers: int | None
    engagement_rate_by_followers: Number | None
    posts_per_week: Number | None
    as_of_at: str | None
    shares: CreatorShares


class Creator(BaseModel):
    creator_id: str
    name: str
    labels: list[str]
    metadata: dict[str, Any]
    account_ids: list[str]
    platforms: list[PlatformName]
    added_at: str
    updated_at: str
    latest: CreatorLatest | None


class CreatorEnvelope(BaseModel):
    data: Creator


class CreatorList(BaseModel):
    data: list[Creator]
    pagination: Pagination


# -------------------------------------------------------------------------------------------- creator programs


#: Free text stored in the warehouse (names, notes, reasons, references): no control characters.
_TEXT = r"^[^\x00-\x1f\x7f-\x9f]*$"


Text200 = Annotated[str, StringConstraints(max_length=200, pattern=_TEXT)]
Text2000 = Annotated[str, StringConstraints(max_length=2000, pattern=_TEXT)]
RequiredText200 = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=_TEXT)]
RequiredText500 = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=_TEXT)]
RequiredText2000 = Annotated[str, StringConstraints(min_length=1, max_length=2000, pattern=_TEXT)]


if TYPE_CHECKING:  # to mypy, models like any other
    VideoPayout: TypeAlias = BaseModel
    CreatorBalance: TypeAlias = BaseModel
    PaymentMade: TypeAlias = BaseModel
    GoalStatus: TypeAlias = BaseModel
else:  # one definition of their fields: the row types of the marts reader and of the programs module
    # marts.video_payouts, its times as ISO strings
    VideoPayout = _row_model(
        "VideoPayout",
        marts.VideoPayout,
        posted_at=(str | None, ...),
        state=(Literal["active", "finalizing", "pending_terms", "finalized", "paid", "rejected"], ...),
        window_end=(str | None, ...),
        amount_minor=(int | None, Field(description="integer minor units (cents) of currency")),
    )
    # marts.creator_payouts
    CreatorBalance = _row_model("CreatorBalance", marts.CreatorPayout)
    # a payment the programs module records
    PaymentMade = _row_model("PaymentMade", programs.Payment)
    # marts.creator_goal_status, its days as ISO strings
    GoalStatus = _row_model(
        "GoalStatus",
        marts.GoalStatusRow,
        period_start=(str, ...),
        period_end=(str, ...),
        target=(Number, ...),
        actual=(Number, ...),
        pace=(Number | None, ...),
        status=(Literal["On Track", "Behind Pace", "At Risk", "Completed", "Missed"], ...),
    )


class Campaign(BaseModel):
    campaign_id: str
    name: str
    parent_id: str | None
    starts_on: str | None
    ends_on: str | None
    target_views: int | None
    target_by: str | None
    notes: str | None
    videos: int | None = Field(description="videos counted by the latest build, sub-campaigns included; null before")
    views: int | None
    target_share: Number | None
    target_reached_on: str | None
    target_met: bool | None


class CampaignEnvelope(BaseModel):
    data: Campaign


class CampaignList(BaseModel):
    data: list[Campaign]


class CreateCampaign(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: RequiredText200
    parent_id: Text200 | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    target_views: Annotated[int, Field(gt=0)] | None = None
    target_by: date | None = None
    notes: Text2000 | None = None


class VideoPayoutList(BaseModel):
    data: list[VideoPayout]


class CreatorBalanceList(BaseModel):
    data: list[CreatorBalance]


class MarkPaid(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference: RequiredText200
    creator_id: Text200 | None = None


class PaymentList(BaseModel):
    data: list[PaymentMade]


class CreateGoal(BaseModel):
    model_config = ConfigDict(extra="forbid")
    creator_id: RequiredText200
    metric: Literal["posts", "views", "engagement", "followers"]
    period: Literal["day", "week", "month"] = "week"
    target: Annotated[float, Field(gt=0, le=1e15)]
    starts_on: date | None = None
    ends_on: date | None = None


class Goal(BaseModel):
    goal_id: int
    creator_id: str
    metric: str
    period: str
    target: Number
    starts_on: str
    ends_on: str | None


class GoalEnvelope(BaseModel):
    data: Goal


class GoalStatusList(BaseModel):
    data: list[GoalStatus]


#: Views and amounts fit DuckDB's BIGINT with room to spare; larger numbers are refused as invalid input.
_MAX_COUNT = 10**15


class AddMembers(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["video", "account", "creator", "label"]
    members: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=500)]], Field(min_length=1, max_length=1000)
    ]


class MembersAdded(BaseModel):
    data: dict[str, int] = Field(description="{'added': how many members were new}")


class SetTerms(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cpm: RequiredText500 = Field(
        description="minor units per 1,000 views (50), or tiers from_views:cpm (0:20,100000:40)"
    )
    currency: Annotated[str, StringConstraints(pattern="^[A-Z]{3}$")] = "USD"
    cap_views: Annotated[int, Field(gt=0, le=_MAX_COUNT)] | None = None
    window_hours: Annotated[int, Field(gt=0, le=24 * 366)] = 168
    min_views: Annotated[int, Field(ge=0, le=_MAX_COUNT)] = 0
    creator_id: Text200 | None = None
    effective_from: datetime | None = None


class TermsCreated(BaseModel):
    data: dict[str, int] = Field(description="{'terms_id': the new version's id}")


class VideoDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    video_ids: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=500)]], Field(min_length=1, max_length=1000)
    ]
    reason: Annotated[str, StringConstraints(max_length=2000)] | None = None


class VideosDecided(BaseModel):
    data: list[str]


class Adjustment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    creator_id: RequiredText200
    amount: Annotated[str, StringConstraints(pattern=r"^[+-]?\d{1,13}(\.\d{1,2})?$")] = Field(
        description="signed decimal amount, two decimals at most: '-12.50'"
    )
    currency: Annotated[str, StringConstraints(pattern="^[A-Z]{3}$")] = "USD"
    reason: RequiredText2000


class AdjustmentRecorded(BaseModel):
    data: dict[str, int] = Field(description="{'entry_id': the ledger entry's id}")
