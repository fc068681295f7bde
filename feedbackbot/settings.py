"""One typed Settings object, read once from FEEDBACKBOT_* environment variables and an optional file."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any

PREFIX = "FEEDBACKBOT_"
PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_PROMPTS_DIR = PACKAGE_DIR.parent / "prompts"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class QuietHours:
    """Local hours during which no survey is started (a reply to the victim's own message still goes)."""

    start: time
    end: time

    def contains(self, local: time) -> bool:
        """Whether a local wall-clock time falls inside the quiet period (which may wrap midnight)."""
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        """Parse ``"21:00-08:00"``; an empty string disables quiet hours (``00:00-00:00``)."""
        if not text.strip():
            return cls(time(0), time(0))
        try:
            a, b = text.split("-")
            return cls(time.fromisoformat(a.strip()), time.fromisoformat(b.strip()))
        except ValueError as exc:
            raise SettingsError(f"quiet hours must look like 21:00-08:00, got {text!r}") from exc


@dataclass(frozen=True)
class ApiKey:
    """A records-system key for the journey API; ``name`` is what the audit trail shows."""

    name: str
    key: str


@dataclass(frozen=True)
class Settings:
    """Every setting of the product. See README.md "Settings" for each variable."""

    database_url: str = "sqlite:///var/feedbackbot.db"
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = "http://127.0.0.1:8080"
    api_keys: tuple[ApiKey, ...] = ()
    prompts_dir: Path = DEFAULT_PROMPTS_DIR
    force_name: str = "West Midlands Police"
    timezone: str = "Europe/London"
    quiet_hours: QuietHours = field(default_factory=lambda: QuietHours.parse("21:00-08:00"))
    survey_interval_days: int = 28
    sms_max_segments: int = 2
    worker_poll_seconds: float = 2.0
    run_workers: bool = True
    background_turns: bool = True
    simulator: bool = False
    classifier: str = "model"
    classifier_niceness: int = 10
    sensitive_flags: tuple[str, ...] = ("domestic_abuse", "sexual_offence", "stalking")
    # --- channels (a channel is live when its credentials are set; secrets have no defaults) ---
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_api_base_url: str = "https://api.twilio.com"
    twilio_messaging_service_sid: str = ""
    twilio_from_number: str = ""
    twilio_whatsapp_from: str = ""
    twilio_whatsapp_templates: str = ""
    telegram_bot_token: str = ""
    telegram_bot_username: str = ""
    telegram_webhook_secret: str = ""
    telegram_api_base_url: str = "https://api.telegram.org"
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    email_from: str = ""
    email_reply_domain: str = ""
    email_from_reply_address: bool = False
    smtp_listen_host: str = "127.0.0.1"
    smtp_listen_port: int = 0
    smtp_listen_max_bytes: int = 10 * 1024 * 1024
    imap_host: str = ""
    imap_port: int = 993
    imap_username: str = ""
    imap_password: str = ""
    imap_ssl: bool = True
    imap_folder: str = "INBOX"
    imap_poll_seconds: float = 30.0
    # --- outbox ---
    channel_fallback: bool = True
    rate_limits: tuple[tuple[str, float], ...] = (("sms", 10.0), ("whatsapp", 20.0), ("telegram", 25.0),
                                                  ("email", 5.0))
    outbox_max_attempts: int = 8
    outbox_poll_seconds: float = 1.0
    # --- routing, SLA and staff notifications (see docs/routing.md) ---
    working_days: str = "mon-fri"
    working_hours: str = "08:00-18:00"
    bank_holidays: str = "england-and-wales"
    oncall_sms_number: str = ""
    notify_webhook_url: str = ""
    notify_webhook_secret: str = ""
    urgent_repeat_minutes: int = 5
    notify_max_attempts: int = 6
    # --- staff accounts (sign-in, sessions, throttling) ---
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    login_max_failures: int = 5
    login_max_failures_per_address: int = 20
    login_lockout_minutes: int = 15
    # --- board insights (see docs/insights.md) ---
    insights_min_victims: int = 5
    insights_refresh_seconds: float = 300.0

    def rate_limit(self, channel_name: str) -> float:
        """Sends per second allowed on a channel (``sms``, ``whatsapp``, ``telegram``, ``email``)."""
        return dict(self.rate_limits).get(channel_name, 10.0)
    log_level: str = "INFO"

    @property
    def flows_dir(self) -> Path:
        """Where the survey flows live."""
        return self.prompts_dir / "flows"

    @property
    def routing_file(self) -> Path:
        """The routing rules (who hears about which reply, and by when)."""
        return self.prompts_dir / "routing.yaml"

    def replace(self, **changes: Any) -> Settings:
        """A copy with some settings changed (used by tests and the demo)."""
        return dataclasses.replace(self, **changes)


def _parse_bool(name: str, raw: str) -> bool:
    low = raw.strip().lower()
    if low in {"1", "true", "yes", "on"}:
        return True
    if low in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{PREFIX}{name} must be true or false, got {raw!r}")


def _parse_api_keys(raw: str) -> tuple[ApiKey, ...]:
    keys: list[ApiKey] = []
    for i, part in enumerate(p.strip() for p in raw.split(",")):
        if not part:
            continue
        name, sep, key = part.partition(":")
        if not sep:
            name, key = f"key{i + 1}", part
        if len(key) < 16:
            raise SettingsError(f"{PREFIX}API_KEYS: key for {name!r} is shorter than 16 characters")
        keys.append(ApiKey(name=name.strip(), key=key.strip()))
    return tuple(keys)


def _convert(name: str, raw: str, current: Any) -> Any:
    if name == "api_keys":
        return _parse_api_keys(raw)
    if name == "quiet_hours":
        return QuietHours.parse(raw)
    if name == "rate_limits":
        pairs: list[tuple[str, float]] = []
        for part in (p.strip() for p in raw.split(",")):
            if not part:
                continue
            channel, sep, value = part.partition("=")
            try:
                pairs.append((channel.strip(), float(value)))
            except ValueError:
                raise SettingsError(f"{PREFIX}RATE_LIMITS must look like sms=10,email=5; got {part!r}") from None
            if not sep or float(value) <= 0:
                raise SettingsError(f"{PREFIX}RATE_LIMITS must look like sms=10,email=5; got {part!r}")
        return tuple(pairs)
    if name == "sensitive_flags":
        return tuple(sorted({f.strip().lower() for f in raw.split(",") if f.strip()}))
    if name == "classifier_niceness":
        niceness = int(raw) if raw.strip().isdigit() else -1
        if not 0 <= niceness <= 19:
            raise SettingsError(f"{PREFIX}CLASSIFIER_NICENESS must be a whole number from 0 to 19, got {raw!r}")
        return niceness
    if isinstance(current, bool):
        return _parse_bool(name.upper(), raw)
    if isinstance(current, int):
        try:
            return int(raw)
        except ValueError as exc:
            raise SettingsError(f"{PREFIX}{name.upper()} must be a whole number, got {raw!r}") from exc
    if isinstance(current, float):
        try:
            return float(raw)
        except ValueError as exc:
            raise SettingsError(f"{PREFIX}{name.upper()} must be a number, got {raw!r}") from exc
    if isinstance(current, Path):
        return Path(raw)
    return raw


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from ``FEEDBACKBOT_SETTINGS_FILE`` (TOML, optional) then ``FEEDBACKBOT_*`` variables.

    Environment variables win over the file. Unknown ``FEEDBACKBOT_*`` names are an error, so a typo
    is caught at start-up rather than silently ignored.
    """
    env = dict(os.environ if environ is None else environ)
    values: dict[str, str] = {}
    file_name = env.pop(PREFIX + "SETTINGS_FILE", "")
    if file_name:
        try:
            data = tomllib.loads(Path(file_name).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"{PREFIX}SETTINGS_FILE {file_name}: {exc}") from exc
        for key, value in data.items():
            values[key.lower()] = ",".join(value) if isinstance(value, list) else str(value)
    for key, value in env.items():
        if key.startswith(PREFIX) and not key.startswith(PREFIX + "TEST_"):
            values[key[len(PREFIX) :].lower()] = value
    defaults = Settings()
    known = {f.name for f in dataclasses.fields(Settings)}
    changes: dict[str, Any] = {}
    for name, raw in values.items():
        if name not in known:
            raise SettingsError(f"unknown setting {PREFIX}{name.upper()}")
        changes[name] = _convert(name, raw, getattr(defaults, name))
    return defaults.replace(**changes)
