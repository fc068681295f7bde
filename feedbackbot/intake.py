"""Journey touchpoint intake: validate what the records system reports, decide eligibility, persist invitations."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .clock import Clock
from .flows.touchpoints import EligibilityFacts, Touchpoint, after_quiet_hours, not_eligible_reason
from .messages import Channel, channel_from_name
from .phone import PhoneError, normalise_phone
from .settings import Settings
from .store.db import Database
from .store.tables import Case, Contact, ContactAddress, Invitation, JourneyEvent

_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
_DEMOGRAPHIC_FIELDS = ("gender", "age_band", "ethnicity", "disability")
SENSITIVE_FLAGS_DEFAULT = frozenset({"domestic_abuse", "sexual_offence", "stalking"})


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an event: the field (dotted path or CSV column) and why."""

    field: str
    message: str


class InvalidEvent(ValueError):
    """An event that cannot be used; ``problems`` names each field."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))


@dataclass(frozen=True)
class CaseDetails:
    """The case as the records system describes it."""

    reference: str
    crime_type: str = ""
    area: str = ""
    officer_in_case: str | None = None
    officer_name: str | None = None
    team: str | None = None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class VictimDetails:
    """The victim's contact details and choices."""

    ref: str | None
    name: str | None
    phone: str | None
    email: str | None
    preferred_channel: Channel
    allowed_channels: tuple[Channel, ...]
    language: str
    consent: bool
    safe_to_contact: bool
    demographics: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TouchpointEvent:
    """A validated report that a victim reached a touchpoint."""

    event_id: str | None
    touchpoint: str
    occurred_at: datetime
    case: CaseDetails
    victim: VictimDetails


@dataclass(frozen=True)
class IntakeResult:
    """What happened to an event: invited (with the invitation) or not eligible (with the reason)."""

    event_id: int
    outcome: str
    reason: str | None = None
    duplicate: bool = False
    invitation: Invitation | None = None


class _Fields:
    """Collects problems while reading an event, so one response lists all of them."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def text(self, data: Mapping[str, Any], key: str, path: str, *, required: bool = False,
             max_length: int = 200) -> str | None:
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problems.append(Problem(path, "is required"))
            return None
        if not isinstance(value, str | int):
            self.problems.append(Problem(path, "must be text"))
            return None
        text = str(value).strip()
        if len(text) > max_length:
            self.problems.append(Problem(path, f"is longer than {max_length} characters"))
            return None
        return text

    def boolean(self, data: Mapping[str, Any], key: str, path: str, default: bool) -> bool:
        value = data.get(key, default)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in {"true", "yes", "1", "y"}:
            return True
        if isinstance(value, str) and value.strip().lower() in {"false", "no", "0", "n", ""}:
            return False
        self.problems.append(Problem(path, "must be true or false"))
        return default

    def channel(self, raw: Any, path: str) -> Channel | None:
        try:
            return channel_from_name(str(raw))
        except ValueError as exc:
            self.problems.append(Problem(path, str(exc)))
            return None


def _parse_time(raw: Any, path: str, fields: _Fields, default: datetime) -> datetime:
    if raw in (None, ""):
        return default
    try:
        value = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        fields.problems.append(Problem(path, f"{raw!r} is not an ISO 8601 date and time"))
        return default
    if value.tzinfo is None:
        fields.problems.append(Problem(path, "needs a timezone (for example 2026-11-21T10:00:00Z)"))
        return default
    return value


def parse_event(data: Any, *, now: datetime, touchpoints: Mapping[str, Touchpoint]) -> TouchpointEvent:
    """Validate a JSON event body; InvalidEvent lists every problem by field."""
    f = _Fields()
    if not isinstance(data, dict):
        raise InvalidEvent([Problem("(body)", "must be a JSON object")])
    touchpoint = f.text(data, "touchpoint", "touchpoint", required=True, max_length=64)
    if touchpoint is not None and touchpoint not in touchpoints:
        f.problems.append(Problem("touchpoint", f"unknown or not live: {touchpoint!r} "
                                                f"(live: {', '.join(sorted(touchpoints))})"))
    event_id = f.text(data, "event_id", "event_id", max_length=150)
    occurred_at = _parse_time(data.get("occurred_at"), "occurred_at", f, now)
    if occurred_at > now + timedelta(minutes=5):
        f.problems.append(Problem("occurred_at", "is in the future"))
    case_data = data.get("case")
    victim_data = data.get("victim")
    if not isinstance(case_data, dict):
        f.problems.append(Problem("case", "is required (an object with at least reference)"))
        case_data = {}
    if not isinstance(victim_data, dict):
        f.problems.append(Problem("victim", "is required (an object with contact details)"))
        victim_data = {}
    flags_raw = case_data.get("flags", [])
    if isinstance(flags_raw, str):
        flags_raw = [x for x in re.split(r"[;,]", flags_raw) if x.strip()]
    if not isinstance(flags_raw, list) or not all(isinstance(x, str) for x in flags_raw):
        f.problems.append(Problem("case.flags", "must be a list of flag names"))
        flags_raw = []
    case = CaseDetails(
        reference=f.text(case_data, "reference", "case.reference", required=True, max_length=64) or "",
        crime_type=f.text(case_data, "crime_type", "case.crime_type", max_length=100) or "",
        area=f.text(case_data, "area", "case.area", max_length=100) or "",
        officer_in_case=f.text(case_data, "officer_in_case", "case.officer_in_case", max_length=64),
        officer_name=f.text(case_data, "officer_name", "case.officer_name", max_length=200),
        team=f.text(case_data, "team", "case.team", max_length=100),
        flags=tuple(sorted({x.strip().lower() for x in flags_raw if x.strip()})),
    )
    victim = _parse_victim(victim_data, f)
    if f.problems:
        raise InvalidEvent(f.problems)
    assert touchpoint is not None and victim is not None
    return TouchpointEvent(event_id, touchpoint, occurred_at, case, victim)


def _parse_victim(data: Mapping[str, Any], f: _Fields) -> VictimDetails | None:
    before = len(f.problems)
    preferred = f.channel(data.get("preferred_channel", "sms"), "victim.preferred_channel")
    allowed_raw = data.get("allowed_channels")
    if isinstance(allowed_raw, str):
        allowed_raw = [x for x in re.split(r"[;,]", allowed_raw) if x.strip()]
    allowed: list[Channel] = []
    if allowed_raw is not None:
        if not isinstance(allowed_raw, list):
            f.problems.append(Problem("victim.allowed_channels", "must be a list of channel names"))
        else:
            for i, raw in enumerate(allowed_raw):
                chosen = f.channel(raw, f"victim.allowed_channels[{i}]")
                if chosen is not None and chosen not in allowed:
                    allowed.append(chosen)
    if preferred is not None and preferred not in allowed:
        allowed.insert(0, preferred)
    phone = None
    raw_phone = f.text(data, "phone", "victim.phone", max_length=40)
    if raw_phone is not None:
        try:
            phone = normalise_phone(raw_phone, mobile=preferred in {Channel.SMS, Channel.WHATSAPP})
        except PhoneError as exc:
            f.problems.append(Problem("victim.phone", str(exc)))
    email = f.text(data, "email", "victim.email", max_length=320)
    if email is not None and not _EMAIL.match(email):
        f.problems.append(Problem("victim.email", f"{email!r} is not an email address"))
        email = None
    language = (f.text(data, "language", "victim.language", max_length=12) or "en").lower()
    if not _LANGUAGE.match(language):
        f.problems.append(Problem("victim.language", f"{language!r} is not a language code such as en, pl or ur"))
    demographics_raw = data.get("demographics") or {}
    demographics: dict[str, str] = {}
    if not isinstance(demographics_raw, dict):
        f.problems.append(Problem("victim.demographics", "must be an object"))
    else:
        for key, value in demographics_raw.items():
            if key not in _DEMOGRAPHIC_FIELDS:
                f.problems.append(Problem(f"victim.demographics.{key}",
                                          f"unknown; allowed: {', '.join(_DEMOGRAPHIC_FIELDS)}"))
            elif value not in (None, ""):
                demographics[key] = str(value)[:100]
    consent = f.boolean(data, "consent", "victim.consent", True)
    safe = f.boolean(data, "safe_to_contact", "victim.safe_to_contact", False)
    if len(f.problems) > before or preferred is None:
        return None
    return VictimDetails(
        ref=f.text(data, "ref", "victim.ref", max_length=100),
        name=f.text(data, "name", "victim.name", max_length=200),
        phone=phone, email=email, preferred_channel=preferred, allowed_channels=tuple(allowed),
        language=language, consent=consent, safe_to_contact=safe, demographics=demographics,
    )


#: CSV columns for ``feedbackbot import-events``, mapped to the JSON event's fields.
CSV_COLUMNS: Mapping[str, str] = {
    "event_id": "event_id",
    "touchpoint": "touchpoint",
    "occurred_at": "occurred_at",
    "case_reference": "case.reference",
    "crime_type": "case.crime_type",
    "area": "case.area",
    "officer_in_case": "case.officer_in_case",
    "officer_name": "case.officer_name",
    "team": "case.team",
    "flags": "case.flags",
    "victim_ref": "victim.ref",
    "victim_name": "victim.name",
    "phone": "victim.phone",
    "email": "victim.email",
    "preferred_channel": "victim.preferred_channel",
    "allowed_channels": "victim.allowed_channels",
    "language": "victim.language",
    "consent": "victim.consent",
    "safe_to_contact": "victim.safe_to_contact",
    "gender": "victim.demographics.gender",
    "age_band": "victim.demographics.age_band",
    "ethnicity": "victim.demographics.ethnicity",
    "disability": "victim.demographics.disability",
}
_PATH_TO_COLUMN = {path: column for column, path in CSV_COLUMNS.items()}


def row_to_event_data(row: Mapping[str, str]) -> dict[str, Any]:
    """A CSV row as the JSON event body it stands for (empty cells are left out)."""
    data: dict[str, Any] = {}
    for column, path in CSV_COLUMNS.items():
        value = (row.get(column) or "").strip()
        if not value:
            continue
        target = data
        parts = path.split(".")
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return data


def column_for(field_path: str) -> str:
    """The CSV column a JSON field path came from (for error messages)."""
    base = re.sub(r"\[\d+\]$", "", field_path)
    return _PATH_TO_COLUMN.get(base, field_path)


@dataclass(frozen=True)
class CsvRow:
    """One data row of an import file with its line number."""

    line: int
    data: dict[str, Any]


def read_csv(text: str) -> tuple[list[CsvRow], list[str]]:
    """Rows of an events CSV and file-level problems (missing or unknown columns)."""
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    problems: list[str] = []
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown:
        problems.append(f"line 1: unknown column(s): {', '.join(unknown)}")
    for needed in ("touchpoint", "case_reference"):
        if needed not in header:
            problems.append(f"line 1: missing column {needed!r}")
    rows = [CsvRow(reader.line_num, row_to_event_data(row)) for row in reader] if not problems else []
    return rows, problems


def iter_csv_rows(text: str) -> Iterator[CsvRow]:
    """Each data row (for callers that have already checked the header)."""
    rows, _ = read_csv(text)
    yield from rows


class Intake:
    """Records journey events and schedules the invitations they earn."""

    def __init__(self, db: Database, settings: Settings, touchpoints: Mapping[str, Touchpoint], clock: Clock,
                 sensitive_flags: frozenset[str] = SENSITIVE_FLAGS_DEFAULT) -> None:
        self.db = db
        self.settings = settings
        self.touchpoints = touchpoints
        self.clock = clock
        self.sensitive_flags = sensitive_flags
        self.tz = ZoneInfo(settings.timezone)

    def parse(self, data: Any) -> TouchpointEvent:
        """Validate an event body against the live touchpoints."""
        return parse_event(data, now=self.clock.now(), touchpoints=self.touchpoints)

    def event_key(self, event: TouchpointEvent, source: str) -> str:
        """The de-duplication key: the sender's own event id, or a hash of what makes the event unique."""
        if event.event_id:
            return f"{source}:{event.event_id}"
        who = event.victim.ref or event.victim.phone or event.victim.email or ""
        digest = hashlib.sha256(f"{event.case.reference}|{event.touchpoint}|{who}".encode()).hexdigest()
        return f"{source}:sha256:{digest[:40]}"

    async def record(self, event: TouchpointEvent, source: str) -> IntakeResult:
        """Store the event once and create its invitation if the victim may be surveyed."""
        key = self.event_key(event, source)
        for _attempt in range(3):
            try:
                async with self.db.session() as s:
                    existing = (await s.exec(select(JourneyEvent).where(JourneyEvent.event_key == key))).first()
                    if existing is not None:
                        return await self._duplicate(s, existing)
                    return await self._record(s, event, source, key)
            except IntegrityError:
                continue  # a concurrent request stored the same event or contact; read it back
        raise RuntimeError("could not record event after retries")

    async def _duplicate(self, s: AsyncSession, existing: JourneyEvent) -> IntakeResult:
        inv = (await s.exec(select(Invitation).where(Invitation.journey_event_id == existing.id))).first()
        assert existing.id is not None
        return IntakeResult(existing.id, existing.outcome, existing.outcome_reason, True, inv)

    async def _record(self, s: AsyncSession, event: TouchpointEvent, source: str, key: str) -> IntakeResult:
        now = self.clock.now()
        case = await self._upsert_case(s, event.case, now)
        contact = await self._upsert_contact(s, event.victim, now)
        assert case.id is not None and contact.id is not None
        channel, address = await self._choose_address(s, contact, event.victim)
        last = (await s.exec(select(Invitation.created_at).where(
            Invitation.contact_id == contact.id, col(Invitation.status).not_in(["cancelled"]),
        ).order_by(col(Invitation.created_at).desc()).limit(1))).first()
        reason = not_eligible_reason(
            EligibilityFacts(consent=contact.consent, opted_out=contact.opted_out_at is not None,
                             case_flags=case.sensitive_flags, safe_to_contact=contact.safe_to_contact,
                             last_invited_at=last, has_address=address is not None),
            now=now, interval=timedelta(days=self.settings.survey_interval_days),
            sensitive_flags=self.sensitive_flags)
        journey = JourneyEvent(event_key=key, source=source, touchpoint=event.touchpoint, case_id=case.id,
                               contact_id=contact.id, occurred_at=event.occurred_at, received_at=now,
                               outcome="not_eligible" if reason else "invited", outcome_reason=reason)
        s.add(journey)
        await s.flush()
        assert journey.id is not None
        if reason is not None or channel is None or address is None:
            return IntakeResult(journey.id, "not_eligible", reason)
        touchpoint = self.touchpoints[event.touchpoint]
        due = max(now, event.occurred_at + touchpoint.delay)
        send_after = after_quiet_hours(due, self.settings.quiet_hours, self.tz)
        token = secrets.token_urlsafe(24)
        if channel == Channel.WEB:
            address = f"web:{token}"
        inv = Invitation(token=token, journey_event_id=journey.id, contact_id=contact.id, case_id=case.id,
                         touchpoint=event.touchpoint, flow_id=touchpoint.flow_id, channel=channel.value,
                         address=address, language=contact.language, status="scheduled",
                         send_after=send_after, created_at=now)
        s.add(inv)
        await s.flush()
        return IntakeResult(journey.id, "invited", None, False, inv)

    async def _upsert_case(self, s: AsyncSession, details: CaseDetails, now: datetime) -> Case:
        case = (await s.exec(select(Case).where(Case.reference == details.reference))).first()
        if case is None:
            case = Case(reference=details.reference, created_at=now)
        case.crime_type = details.crime_type or case.crime_type
        case.area = details.area or case.area
        case.officer_in_case = details.officer_in_case or case.officer_in_case
        case.officer_name = details.officer_name or case.officer_name
        case.team = details.team or case.team
        case.sensitive_flags = sorted(set(case.sensitive_flags or []) | set(details.flags))
        case.updated_at = now
        s.add(case)
        await s.flush()
        return case

    async def _upsert_contact(self, s: AsyncSession, victim: VictimDetails, now: datetime) -> Contact:
        contact: Contact | None = None
        if victim.ref:
            contact = (await s.exec(select(Contact).where(Contact.external_ref == victim.ref))).first()
        addresses = []
        if victim.phone:
            addresses.append((Channel.SMS.value, victim.phone))
            if Channel.WHATSAPP in victim.allowed_channels:
                addresses.append((Channel.WHATSAPP.value, victim.phone))
        if victim.email:
            addresses.append((Channel.EMAIL.value, victim.email.lower()))
        if contact is None:
            for channel, path in addresses:
                owner = (await s.exec(select(ContactAddress).where(
                    ContactAddress.channel == channel, ContactAddress.path == path))).first()
                if owner is not None:
                    contact = await s.get(Contact, owner.contact_id)
                    break
        if contact is None:
            contact = Contact(created_at=now)
        if victim.ref and contact.external_ref is None:
            contact.external_ref = victim.ref
        contact.display_name = victim.name or contact.display_name
        contact.language = victim.language
        contact.consent = victim.consent
        contact.safe_to_contact = victim.safe_to_contact
        contact.preferred_channel = victim.preferred_channel.value
        contact.allowed_channels = [c.value for c in victim.allowed_channels]
        if victim.demographics:
            contact.demographics = {**(contact.demographics or {}), **victim.demographics}
        contact.updated_at = now
        s.add(contact)
        await s.flush()
        assert contact.id is not None
        for channel, path in addresses:
            owner = (await s.exec(select(ContactAddress).where(
                ContactAddress.channel == channel, ContactAddress.path == path))).first()
            if owner is None:
                s.add(ContactAddress(contact_id=contact.id, channel=channel, path=path, created_at=now))
        await s.flush()
        return contact

    async def _choose_address(self, s: AsyncSession, contact: Contact,
                              victim: VictimDetails) -> tuple[Channel | None, str | None]:
        """The first channel the victim agreed to (preferred first) that we have a working address for."""
        for channel in victim.allowed_channels:
            if channel == Channel.WEB:
                return channel, "web:"
            if channel == Channel.TELEGRAM:
                bound = (await s.exec(select(ContactAddress).where(
                    ContactAddress.contact_id == contact.id, ContactAddress.channel == channel.value,
                    ContactAddress.status == "ok"))).first()
                if bound is not None:
                    return channel, f"{channel.value}:{bound.path}"
                if victim.phone or victim.email:
                    # A bot cannot write first: the survey starts when the victim follows a link we send
                    # by SMS or email (see Conversation.start_invitation).
                    return channel, "telegram:"
                continue
            rows = (await s.exec(select(ContactAddress).where(
                ContactAddress.contact_id == contact.id, ContactAddress.channel == channel.value,
                ContactAddress.status == "ok"))).all()
            wanted = victim.email.lower() if channel == Channel.EMAIL and victim.email else victim.phone
            for row in rows:
                if wanted is None or row.path == wanted:
                    return channel, f"{channel.value}:{row.path}"
        return None, None
