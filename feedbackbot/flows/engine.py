"""The pure flow engine: start and resume a survey, returning the new state and the events to carry out.

No database, clock, network or randomness inside: the caller passes the time in and turns events into
rows and outbox messages in one transaction. Example::

    sprint = start(flow, phrases, language="en", context={"force_name": "West Midlands Police"}, at=now)
    sprint = resume(flow, phrases, sprint.state, MessageResume("4", at=later))
    for event in sprint.events: ...   # MsgCreated, AnswerSaved, FeedbackReceived, OptedOut, RunEnded…
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from ..messages import QuickReply
from .answers import Understood, understand, word_count
from .keywords import LANGUAGE_SELF_NAMES, Keyword, parse_keyword, parse_language_name
from .model import Flow, Step
from .phrases import Phrases
from .render import render_prompt, render_text

MAX_STEPS_PER_SPRINT = 100
ACTIVE = "active"
COMPLETED = "completed"
EXPIRED = "expired"
OPTED_OUT = "opted_out"


@dataclass(frozen=True)
class SessionState:
    """Where a victim is in a flow. Serialised as JSON in the survey_sessions table."""

    flow_id: str
    flow_version: int
    status: str
    step: str | None
    language: str
    context: Mapping[str, str] = field(default_factory=dict)
    reasks: int = 0
    awaiting_language: bool = False
    reminded: bool = False
    reminder_at: datetime | None = None
    expires_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict of this state."""
        return {
            "flow_id": self.flow_id,
            "flow_version": self.flow_version,
            "status": self.status,
            "step": self.step,
            "language": self.language,
            "context": dict(self.context),
            "reasks": self.reasks,
            "awaiting_language": self.awaiting_language,
            "reminded": self.reminded,
            "reminder_at": self.reminder_at.isoformat() if self.reminder_at else None,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SessionState:
        """Rebuild a state saved by :meth:`to_json`."""
        return cls(
            flow_id=data["flow_id"],
            flow_version=int(data["flow_version"]),
            status=data["status"],
            step=data.get("step"),
            language=data.get("language", "en"),
            context=dict(data.get("context", {})),
            reasks=int(data.get("reasks", 0)),
            awaiting_language=bool(data.get("awaiting_language", False)),
            reminded=bool(data.get("reminded", False)),
            reminder_at=datetime.fromisoformat(data["reminder_at"]) if data.get("reminder_at") else None,
            expires_at=datetime.fromisoformat(data["expires_at"]) if data.get("expires_at") else None,
        )


# --- resumes: what wakes a session -------------------------------------------------------------


@dataclass(frozen=True)
class MessageResume:
    """The victim sent a message."""

    text: str
    at: datetime


@dataclass(frozen=True)
class ReminderResume:
    """The reminder time passed with no reply."""

    at: datetime


@dataclass(frozen=True)
class ExpiryResume:
    """The survey lapsed."""

    at: datetime


Resume = MessageResume | ReminderResume | ExpiryResume


# --- events: what the caller must carry out ----------------------------------------------------


@dataclass(frozen=True)
class MsgCreated:
    """Send this text to the victim. ``purpose`` says why (prompt, reask, help, reminder…)."""

    text: str
    purpose: str
    step_id: str | None = None
    quick_replies: tuple[QuickReply, ...] = ()


@dataclass(frozen=True)
class AnswerSaved:
    """The victim answered (or skipped) a question."""

    step_id: str
    kind: str
    value: str | None
    number: float | None = None
    skipped: bool = False


@dataclass(frozen=True)
class FeedbackReceived:
    """Words a person or the classifier should read: a free-text answer or a reply we could not use."""

    step_id: str | None
    text: str
    prompted: bool


@dataclass(frozen=True)
class OptedOut:
    """The victim asked to stop; honour it on every channel, for good."""


@dataclass(frozen=True)
class LanguageChanged:
    """The victim chose another language."""

    language: str


@dataclass(frozen=True)
class RunEnded:
    """The survey ended: completed, expired or opted_out."""

    status: str


Event = MsgCreated | AnswerSaved | FeedbackReceived | OptedOut | LanguageChanged | RunEnded


@dataclass(frozen=True)
class Sprint:
    """The result of a start or resume: the new state and the events, in order."""

    state: SessionState
    events: tuple[Event, ...]


# --- the engine --------------------------------------------------------------------------------


class _Run:
    """Mutable scratch space for one sprint; never escapes this module."""

    def __init__(self, flow: Flow, phrases: Phrases, state: SessionState) -> None:
        self.flow = flow
        self.phrases = phrases
        self.state = state
        self.events: list[Event] = []

    def say(self, text: str, purpose: str, step: Step | None = None) -> None:
        quick: tuple[QuickReply, ...] = ()
        if step is not None and step.kind == "choice":
            lang, ctx = self.state.language, self.state.context
            quick = tuple(
                QuickReply(text=str(i), label=render_text(o.text, lang, ctx)) for i, o in enumerate(step.options, 1)
            )
        self.events.append(MsgCreated(text=text, purpose=purpose, step_id=step.id if step else None,
                                      quick_replies=quick))

    def phrase(self, key: str, **extra: object) -> str:
        return self.phrases.say(key, self.state.language, self.state.context, **extra)

    def prompt(self, step: Step) -> None:
        self.say(render_prompt(step, self.state.language, self.state.context), "prompt", step)

    def schedule(self, at: datetime) -> None:
        reminder_at = None
        if self.flow.reminder is not None and not self.state.reminded:
            reminder_at = at + self.flow.reminder.after
        expiry_after = self.flow.expiry.after if self.flow.expiry else timedelta(days=7)
        self.state = replace(self.state, reminder_at=reminder_at, expires_at=at + expiry_after)

    def end(self, status: str) -> None:
        self.state = replace(self.state, status=status, step=None, reminder_at=None, expires_at=None,
                             reasks=0, awaiting_language=False)
        self.events.append(RunEnded(status))

    def go(self, step_id: str | None) -> None:
        """Enter steps from ``step_id`` until one waits for an answer or the flow ends."""
        for _ in range(MAX_STEPS_PER_SPRINT):
            if step_id is None:
                self.end(COMPLETED)
                return
            step = self.flow.step(step_id)
            self.state = replace(self.state, step=step.id, reasks=0)
            if step.type == "end":
                self.say(render_text(step.text, self.state.language, self.state.context), "end", step)
                self.end(COMPLETED)
                return
            if step.type == "message":
                self.say(render_text(step.text, self.state.language, self.state.context), "message", step)
                step_id = step.next
                continue
            self.prompt(step)
            return
        # A validated flow never gets here; if one did, end kindly rather than loop.
        self.end(COMPLETED)

    def answered(self, step: Step, answer: Understood | None, raw: str) -> None:
        if answer is None:
            self.events.append(AnswerSaved(step.id, step.kind or "", None, None, skipped=True))
            self.go(_branch(step, "skipped"))
            return
        self.events.append(AnswerSaved(step.id, step.kind or "", answer.value, answer.number))
        if step.kind == "text":
            self.events.append(FeedbackReceived(step.id, raw.strip(), prompted=True))
        elif answer.extra:
            self.events.append(FeedbackReceived(step.id, raw.strip(), prompted=False))
        self.go(_branch(step, answer.value, answer.number))

    def message(self, text: str, at: datetime) -> None:
        keyword = parse_keyword(text)
        step = self.flow.step(self.state.step) if self.state.step else None
        if keyword is Keyword.STOP:
            self.events.append(OptedOut())
            self.say(self.phrase("opted_out"), "opted_out")
            self.end(OPTED_OUT)
            return
        self.schedule(at)
        if self.state.awaiting_language:
            chosen = self._menu_choice(text)
            self.state = replace(self.state, awaiting_language=False)
            if chosen is not None:
                self.switch_language(chosen, step)
                return
        language = parse_language_name(text)
        if language is not None and language in self.flow.languages:
            self.switch_language(language, step)
            return
        if keyword is Keyword.LANGUAGE:
            menu = "\n".join(f"{i} {LANGUAGE_SELF_NAMES.get(code, code)}"
                             for i, code in enumerate(self.flow.languages, 1))
            self.state = replace(self.state, awaiting_language=True)
            self.say(self.phrase("language_menu", menu=menu), "language_menu")
            return
        if keyword is Keyword.HELP or keyword is Keyword.START:
            if keyword is Keyword.HELP:
                self.say(self.phrase("help"), "help")
            if step is not None:
                self.prompt(step)
            return
        if step is None or not step.is_question:
            return
        if keyword is Keyword.SKIP:
            self.answered(step, None, text)
            return
        answer = understand(step, text, self.state.language)
        if answer is not None:
            self.answered(step, answer, text)
            return
        if word_count(text) >= 3:
            # Not an answer, but words a person should read (it may be the most important thing said).
            self.events.append(FeedbackReceived(step.id, text.strip(), prompted=False))
        if self.state.reasks == 0:
            self.state = replace(self.state, reasks=1)
            self.say(self._reask(step), "reask", step)
            return
        # One gentle re-ask only: never trap a victim in a loop.
        self.answered(step, None, text)

    def _reask(self, step: Step) -> str:
        if step.reask is not None:
            return render_text(step.reask, self.state.language, self.state.context)
        if step.kind == "scale":
            return self.phrase("reask_scale", min=step.min, max=step.max)
        return self.phrase(f"reask_{step.kind}")

    def _menu_choice(self, text: str) -> str | None:
        stripped = text.strip()
        if stripped.isdigit() and 1 <= int(stripped) <= len(self.flow.languages):
            return self.flow.languages[int(stripped) - 1]
        named = parse_language_name(text)
        return named if named in self.flow.languages else None

    def switch_language(self, language: str, step: Step | None) -> None:
        self.state = replace(self.state, language=language)
        self.events.append(LanguageChanged(language))
        self.say(self.phrase("language_changed"), "language_changed")
        if step is not None and step.is_question:
            self.prompt(step)


def _matches(when: str, value: str | None, number: float | None) -> bool:
    when = when.strip()
    if when == "skipped":
        return value is None
    if value is None:
        return False
    if number is not None:
        for op in ("<=", ">=", "==", "<", ">"):
            if when.startswith(op):
                limit = float(when[len(op):])
                return {
                    "<=": number <= limit, ">=": number >= limit, "==": number == limit,
                    "<": number < limit, ">": number > limit,
                }[op]
        low, sep, high = when.partition("-")
        if sep and low.strip() and high.strip():
            return float(low) <= number <= float(high)
    return when == value


def _branch(step: Step, value: str | None, number: float | None = None) -> str | None:
    for branch in step.branches:
        if _matches(branch.when, value, number):
            return branch.next
    return step.next


def start(
    flow: Flow, phrases: Phrases, *, language: str, context: Mapping[str, str], at: datetime
) -> Sprint:
    """Begin ``flow`` for a victim at time ``at``: sends the opening steps up to the first question."""
    chosen = language if language in flow.languages else "en"
    state = SessionState(flow.id, flow.version, ACTIVE, None, chosen, dict(context))
    run = _Run(flow, phrases, state)
    run.schedule(at)
    run.go(flow.start)
    return Sprint(run.state, tuple(run.events))


def resume(flow: Flow, phrases: Phrases, state: SessionState, event: Resume) -> Sprint:
    """Continue a session after a message, a reminder time or an expiry; a finished session does nothing."""
    if flow.id != state.flow_id or flow.version != state.flow_version:
        raise ValueError(f"session is on {state.flow_id} v{state.flow_version}, not {flow.id} v{flow.version}")
    run = _Run(flow, phrases, state)
    if state.status != ACTIVE:
        return Sprint(state, ())
    if isinstance(event, MessageResume):
        run.message(event.text, event.at)
    elif isinstance(event, ReminderResume):
        if not state.reminded and flow.reminder is not None:
            run.state = replace(run.state, reminded=True, reminder_at=None)
            run.say(render_text(flow.reminder.text, state.language, state.context), "reminder")
    elif isinstance(event, ExpiryResume):
        if flow.expiry is not None:
            run.say(render_text(flow.expiry.text, state.language, state.context), "expiry")
        run.end(EXPIRED)
    return Sprint(run.state, tuple(run.events))
