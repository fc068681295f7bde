"""The tables: contacts, cases, journey events, invitations, survey sessions, messages, answers, feedback."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlmodel import Field, SQLModel

from .types import UTCDateTime


def _ts(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


def _json(default: Any) -> Any:
    return Field(default_factory=default, sa_column=Column(JSON, nullable=False))


class Contact(SQLModel, table=True):
    """One victim, reachable at one or more addresses, with their consent and preferences."""

    __tablename__ = "contacts"
    __table_args__ = (Index("ix_contacts_updated", "updated_at"),)  # board insights' change detection

    id: int | None = Field(default=None, primary_key=True)
    external_ref: str | None = Field(default=None, max_length=100, unique=True)
    display_name: str | None = Field(default=None, max_length=200)
    language: str = Field(default="en", max_length=12)
    consent: bool = True
    safe_to_contact: bool = False
    preferred_channel: str = Field(default="tel", max_length=16)
    allowed_channels: list[str] = _json(list)
    contact_preferences: dict[str, Any] = _json(dict)
    demographics: dict[str, Any] = _json(dict)
    opted_out_at: datetime | None = _ts(nullable=True)
    opted_out_channel: str | None = Field(default=None, max_length=16)
    is_test: bool = False
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class ContactAddress(SQLModel, table=True):
    """A channel address of a contact (``tel:+44…``); unique across contacts."""

    __tablename__ = "contact_addresses"
    __table_args__ = (UniqueConstraint("channel", "path", name="uq_contact_address"),
                      Index("ix_contact_addresses_path", "path"))  # the outbox's WhatsApp windows, by number

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contacts.id", index=True)
    channel: str = Field(max_length=16)
    path: str = Field(max_length=320)
    status: str = Field(default="ok", max_length=16)
    status_reason: str | None = Field(default=None, max_length=300)
    last_inbound_at: datetime | None = _ts(nullable=True)
    created_at: datetime = _ts()


class Case(SQLModel, table=True):
    """A crime report as the records system describes it."""

    __tablename__ = "cases"

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=64, unique=True)
    crime_type: str = Field(default="", max_length=100)
    area: str = Field(default="", max_length=100)
    officer_in_case: str | None = Field(default=None, max_length=64)
    officer_name: str | None = Field(default=None, max_length=200)
    team: str | None = Field(default=None, max_length=100)
    sensitive_flags: list[str] = _json(list)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class JourneyEvent(SQLModel, table=True):
    """A victim reached a touchpoint of their journey, as reported by the records system."""

    __tablename__ = "journey_events"

    id: int | None = Field(default=None, primary_key=True)
    event_key: str = Field(max_length=200, unique=True)
    source: str = Field(max_length=100)
    touchpoint: str = Field(max_length=64, index=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    contact_id: int = Field(foreign_key="contacts.id", index=True)
    occurred_at: datetime = _ts()
    received_at: datetime = _ts()
    outcome: str = Field(max_length=32)
    outcome_reason: str | None = Field(default=None, max_length=300)


class FlowVersion(SQLModel, table=True):
    """A published version of a survey flow; sessions finish on the version they started on."""

    __tablename__ = "flow_versions"
    __table_args__ = (UniqueConstraint("flow_id", "version", name="uq_flow_version"),)

    id: int | None = Field(default=None, primary_key=True)
    flow_id: str = Field(max_length=64)
    version: int
    sha256: str = Field(max_length=64)
    source_name: str = Field(max_length=300)
    source: str = Field(sa_column=Column(Text, nullable=False))
    published_at: datetime = _ts()


class Invitation(SQLModel, table=True):
    """A survey we mean to send, persisted so it survives restarts; one per journey event."""

    __tablename__ = "invitations"
    __table_args__ = (
        Index("ix_invitations_due", "status", "send_after"),
        Index("ix_invitations_created", "created_at"),  # board insights: facts by day, change detection
        Index("ix_invitations_sent", "sent_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=64, unique=True)
    journey_event_id: int = Field(foreign_key="journey_events.id", unique=True)
    contact_id: int = Field(foreign_key="contacts.id", index=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    touchpoint: str = Field(max_length=64)
    flow_id: str = Field(max_length=64)
    channel: str = Field(max_length=16)
    address: str = Field(max_length=340)
    language: str = Field(default="en", max_length=12)
    status: str = Field(default="scheduled", max_length=16)
    status_reason: str | None = Field(default=None, max_length=300)
    send_after: datetime = _ts()
    sent_at: datetime | None = _ts(nullable=True)
    created_at: datetime = _ts()


class SurveySession(SQLModel, table=True):
    """A victim's run through one flow version: where they are, what they said, when it lapses."""

    __tablename__ = "survey_sessions"
    __table_args__ = (
        Index("ix_sessions_contact_status", "contact_id", "status"),
        Index("ix_sessions_reminder", "status", "reminder_at"),
        Index("ix_sessions_expiry", "status", "expires_at"),
        Index("ix_sessions_updated", "updated_at"),  # board insights' change detection
        Index("ix_sessions_address", "address", "status"),  # a reply's active survey; the web chat's latest
    )

    id: int | None = Field(default=None, primary_key=True)
    invitation_id: int | None = Field(default=None, foreign_key="invitations.id", index=True)
    contact_id: int = Field(foreign_key="contacts.id")
    case_id: int | None = Field(default=None, foreign_key="cases.id")
    flow_id: str = Field(max_length=64)
    flow_version: int
    channel: str = Field(max_length=16)
    address: str = Field(max_length=340)
    language: str = Field(default="en", max_length=12)
    status: str = Field(default="active", max_length=16)
    current_step: str | None = Field(default=None, max_length=64)
    state: dict[str, Any] = _json(dict)
    version: int = 0
    started_at: datetime = _ts()
    updated_at: datetime = _ts()
    last_inbound_at: datetime | None = _ts(nullable=True)
    reminder_at: datetime | None = _ts(nullable=True)
    expires_at: datetime | None = _ts(nullable=True)
    ended_at: datetime | None = _ts(nullable=True)


class Message(SQLModel, table=True):
    """A message in or out. Outbound rows with status ``queued`` are the outbox."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "provider_id", name="uq_message_provider_id"),
        # The outbox's queue and the unprocessed replies, each in id order (the order they are carried out in).
        Index("ix_messages_outbox", "direction", "status", "id"),
        Index("ix_messages_session", "session_id", "id"),
        Index("ix_messages_address", "address", "id"),  # an address's conversation and unprocessed replies
        Index("ix_messages_updated", "updated_at"),  # board insights: delivery reports since the last refresh
    )

    id: int | None = Field(default=None, primary_key=True)
    direction: str = Field(max_length=3)
    channel: str = Field(max_length=16)
    address: str = Field(max_length=340)
    contact_id: int | None = Field(default=None, foreign_key="contacts.id", index=True)
    session_id: int | None = Field(default=None, foreign_key="survey_sessions.id")
    provider_id: str | None = Field(default=None, max_length=128)
    text: str = Field(sa_column=Column(Text, nullable=False))
    quick_replies: list[dict[str, str]] = _json(list)
    media: list[dict[str, str]] = _json(list)
    step_id: str | None = Field(default=None, max_length=64)
    purpose: str = Field(default="reply", max_length=32)
    status: str = Field(max_length=16)
    error_code: str | None = Field(default=None, max_length=32)
    error_reason: str | None = Field(default=None, max_length=500)
    attempts: int = 0
    next_attempt_at: datetime | None = _ts(nullable=True)
    claimed_at: datetime | None = _ts(nullable=True)
    in_reply_to: str | None = Field(default=None, max_length=998)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    sent_at: datetime | None = _ts(nullable=True)
    delivered_at: datetime | None = _ts(nullable=True)


class Answer(SQLModel, table=True):
    """A structured answer to one question of a survey."""

    __tablename__ = "answers"
    __table_args__ = (Index("ix_answers_flow_step", "flow_id", "step_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="survey_sessions.id", index=True)
    contact_id: int = Field(foreign_key="contacts.id")
    case_id: int | None = Field(default=None, foreign_key="cases.id")
    message_id: int | None = Field(default=None, foreign_key="messages.id")
    flow_id: str = Field(max_length=64)
    flow_version: int
    step_id: str = Field(max_length=64)
    kind: str = Field(max_length=16)
    value: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    value_num: float | None = None
    skipped: bool = False
    created_at: datetime = _ts()


class FeedbackItem(SQLModel, table=True):
    """A victim's free text, waiting for or holding its classification."""

    __tablename__ = "feedback_items"
    __table_args__ = (
        Index("ix_feedback_status", "status", "id"),
        Index("ix_feedback_classified", "classified_at"),  # board insights' change detection
    )

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int | None = Field(default=None, foreign_key="contacts.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    session_id: int | None = Field(default=None, foreign_key="survey_sessions.id")
    message_id: int | None = Field(default=None, foreign_key="messages.id", unique=True)
    step_id: str | None = Field(default=None, max_length=64)
    touchpoint: str | None = Field(default=None, max_length=64)
    prompted: bool = True
    text: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="pending", max_length=16)
    classification: dict[str, Any] = _json(dict)
    model_version: str | None = Field(default=None, max_length=100)
    created_at: datetime = _ts()
    classified_at: datetime | None = _ts(nullable=True)


class ChannelLink(SQLModel, table=True):
    """A single-use token that binds a new address to an invitation (a Telegram deep link, say)."""

    __tablename__ = "channel_links"

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=64, unique=True)
    invitation_id: int = Field(foreign_key="invitations.id", index=True)
    channel: str = Field(max_length=16)
    created_at: datetime = _ts()
    used_at: datetime | None = _ts(nullable=True)
    bound_address: str | None = Field(default=None, max_length=340)


class User(SQLModel, table=True):
    """A person who signs in: administrator, supervisor, officer or board member."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=320)
    role: str = Field(max_length=16)
    officer_ref: str | None = Field(default=None, max_length=64, unique=True)
    supervisor_ref: str | None = Field(default=None, max_length=64, index=True)
    teams: list[str] = _json(list)
    password_hash: str = Field(sa_column=Column(Text, nullable=False))
    active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = _ts(nullable=True)
    password_changed_at: datetime = _ts()
    last_login_at: datetime | None = _ts(nullable=True)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class UserSession(SQLModel, table=True):
    """A signed-in browser: the cookie holds a random token, the table only its SHA-256."""

    __tablename__ = "user_sessions"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = _ts()
    last_seen_at: datetime = _ts()
    expires_at: datetime = _ts()
    ended_at: datetime | None = _ts(nullable=True)
    ended_reason: str | None = Field(default=None, max_length=32)
    client_address: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=300)


class LoginAttempt(SQLModel, table=True):
    """One sign-in attempt, kept for throttling by username and by client address."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username", "username", "at"),
        Index("ix_login_attempts_client", "client_address", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64)
    client_address: str | None = Field(default=None, max_length=64)
    succeeded: bool = False
    at: datetime = _ts()


class AuditEntry(SQLModel, table=True):
    """Append-only: every view of victim data and every action, by whom, when and with what outcome."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_at", "at"),
        Index("ix_audit_user", "user_id", "at"),
        Index("ix_audit_object", "object_type", "object_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts()
    user_id: int | None = Field(default=None, foreign_key="users.id")
    username: str | None = Field(default=None, max_length=64)
    role: str | None = Field(default=None, max_length=16)
    action: str = Field(max_length=64)
    object_type: str | None = Field(default=None, max_length=32)
    object_id: str | None = Field(default=None, max_length=64)
    outcome: str = Field(default="ok", max_length=16)
    client_address: str | None = Field(default=None, max_length=64)
    detail: dict[str, Any] = _json(dict)


class WorkItem(SQLModel, table=True):
    """A piece of feedback routed to one target (an officer or a team queue), with its SLA and state."""

    __tablename__ = "work_items"
    __table_args__ = (
        UniqueConstraint("feedback_item_id", "target_kind", "target_ref", name="uq_work_item_target"),
        Index("ix_work_items_target", "target_kind", "target_ref", "status", "due_at"),
        Index("ix_work_items_due", "status", "due_at"),
        Index("ix_work_items_created", "created_at"),  # board insights: facts by day, change detection
        Index("ix_work_items_updated", "updated_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    feedback_item_id: int = Field(foreign_key="feedback_items.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    contact_id: int | None = Field(default=None, foreign_key="contacts.id")
    session_id: int | None = Field(default=None, foreign_key="survey_sessions.id")
    touchpoint: str | None = Field(default=None, max_length=64)
    rule_id: str = Field(max_length=64)
    purpose: str = Field(default="action", max_length=16)
    priority: str = Field(default="normal", max_length=16)
    target_kind: str = Field(max_length=16)
    target_ref: str = Field(max_length=64)
    owner_user_id: int | None = Field(default=None, foreign_key="users.id")
    status: str = Field(default="new", max_length=16)
    sla_minutes: int | None = None
    working_hours: bool = False
    due_at: datetime | None = _ts(nullable=True)
    escalation_level: int = 0
    escalated_at: datetime | None = _ts(nullable=True)
    escalate_to_kind: str | None = Field(default=None, max_length=16)
    escalate_to_ref: str | None = Field(default=None, max_length=64)
    reassigned_to_id: int | None = Field(default=None)
    acknowledged_at: datetime | None = _ts(nullable=True)
    acknowledged_by: int | None = Field(default=None, foreign_key="users.id")
    resolved_at: datetime | None = _ts(nullable=True)
    resolved_by: int | None = Field(default=None, foreign_key="users.id")
    outcome: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    version: int = 0
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class WorkItemEvent(SQLModel, table=True):
    """The history of a work item: created, acknowledged, note, reassigned, replied, escalated and resolved."""

    __tablename__ = "work_item_events"
    __table_args__ = (Index("ix_work_item_events_item", "work_item_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    work_item_id: int = Field(foreign_key="work_items.id")
    at: datetime = _ts()
    user_id: int | None = Field(default=None, foreign_key="users.id")
    kind: str = Field(max_length=32)
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    detail: dict[str, Any] = _json(dict)


class Notification(SQLModel, table=True):
    """A message to staff about a work item (email, SMS or webhook); never carries victim text or identity."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_due", "status", "next_attempt_at"),
        # One urgent alert per item, channel and round: two workers can never queue the same repeat.
        Index("uq_notifications_alert_round", "work_item_id", "channel", "sequence", unique=True,
              sqlite_where=sql_text("kind IN ('urgent', 'urgent_repeat')"),
              postgresql_where=sql_text("kind IN ('urgent', 'urgent_repeat')")),
    )

    id: int | None = Field(default=None, primary_key=True)
    work_item_id: int = Field(foreign_key="work_items.id", index=True)
    channel: str = Field(max_length=16)
    recipient: str = Field(max_length=320)
    kind: str = Field(default="new_item", max_length=32)
    sequence: int = 0
    status: str = Field(default="queued", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime | None = _ts(nullable=True)
    error_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = _ts()
    sent_at: datetime | None = _ts(nullable=True)


class ClassificationCorrection(SQLModel, table=True):
    """An officer's correction of a reply's tags, kept for retraining."""

    __tablename__ = "classification_corrections"

    id: int | None = Field(default=None, primary_key=True)
    feedback_item_id: int = Field(foreign_key="feedback_items.id", index=True)
    work_item_id: int | None = Field(default=None, foreign_key="work_items.id")
    user_id: int = Field(foreign_key="users.id")
    at: datetime = _ts()
    before: dict[str, Any] = _json(dict)
    after: dict[str, Any] = _json(dict)
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


#: Board insights: filtered views read only their slice of the "full" grains, through one of these.
INSIGHT_FILTER_COLUMNS = ("touchpoint", "channel", "crime_type", "area", "group_value")


def _slice_indexes(table: str) -> tuple[Index, ...]:
    return (Index(f"ix_{table}_slice", "grain", "day", "group_kind"),
            *(Index(f"ix_{table}_{c}", "grain", "group_kind", c, "day") for c in INSIGHT_FILTER_COLUMNS))


class InsightReach(SQLModel, table=True):
    """Board insights: survey reach per invitation day and slice (touchpoint, channel, crime, area, group)."""

    __tablename__ = "insight_reach"
    __table_args__ = _slice_indexes("insight_reach")

    id: int | None = Field(default=None, primary_key=True)
    grain: str = Field(max_length=8)
    day: date
    touchpoint: str = Field(max_length=64)
    channel: str = Field(max_length=16)
    crime_type: str = Field(max_length=100)
    area: str = Field(max_length=100)
    group_kind: str = Field(max_length=16)
    group_value: str = Field(max_length=100)
    invited: int = 0
    sent: int = 0
    delivered: int = 0
    started: int = 0
    completed: int = 0
    opted_out: int = 0


class InsightRating(SQLModel, table=True):
    """Board insights: answers to one rating or Victims' Code question per invitation day and slice."""

    __tablename__ = "insight_ratings"
    __table_args__ = _slice_indexes("insight_ratings")

    id: int | None = Field(default=None, primary_key=True)
    grain: str = Field(max_length=8)
    day: date
    touchpoint: str = Field(max_length=64)
    channel: str = Field(max_length=16)
    crime_type: str = Field(max_length=100)
    area: str = Field(max_length=100)
    group_kind: str = Field(max_length=16)
    group_value: str = Field(max_length=100)
    measure: str = Field(max_length=64)
    answered: int = 0
    positive: int = 0
    total: float = 0.0


class InsightFeedback(SQLModel, table=True):
    """Board insights: classified replies per day and slice, by theme, risk, request or resolved theme."""

    __tablename__ = "insight_feedback"
    __table_args__ = _slice_indexes("insight_feedback")

    id: int | None = Field(default=None, primary_key=True)
    grain: str = Field(max_length=8)
    day: date
    touchpoint: str = Field(max_length=64)
    channel: str = Field(max_length=16)
    crime_type: str = Field(max_length=100)
    area: str = Field(max_length=100)
    group_kind: str = Field(max_length=16)
    group_value: str = Field(max_length=100)
    kind: str = Field(max_length=16)
    label: str = Field(max_length=64)
    items: int = 0
    sessions: int = 0
    positive: int = 0
    negative: int = 0
    neutral: int = 0
    mixed: int = 0


class InsightWork(SQLModel, table=True):
    """Board insights: work items per creation day and slice, by queue and priority, with SLA timings."""

    __tablename__ = "insight_work"
    __table_args__ = _slice_indexes("insight_work")

    id: int | None = Field(default=None, primary_key=True)
    grain: str = Field(max_length=8)
    day: date
    touchpoint: str = Field(max_length=64)
    channel: str = Field(max_length=16)
    crime_type: str = Field(max_length=100)
    area: str = Field(max_length=100)
    group_kind: str = Field(max_length=16)
    group_value: str = Field(max_length=100)
    queue: str = Field(max_length=64)
    priority: str = Field(max_length=16)
    items: int = 0
    acknowledged: int = 0
    acknowledged_in_time: int = 0
    acknowledge_minutes: float = 0.0
    resolved: int = 0
    resolved_in_time: int = 0
    resolve_minutes: float = 0.0


class InsightWatermark(SQLModel, table=True):
    """How far the board's pre-aggregated tables have been brought up to date."""

    __tablename__ = "insight_watermarks"

    name: str = Field(primary_key=True, max_length=32)
    refreshed_at: datetime = _ts()
    days: int = 0
