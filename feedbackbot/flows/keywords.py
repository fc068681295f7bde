"""Keywords a victim can send at any point: STOP, START, HELP, SKIP and a language switch."""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class Keyword(StrEnum):
    """What a whole message means when it is a keyword."""

    STOP = "stop"
    START = "start"
    HELP = "help"
    SKIP = "skip"
    LANGUAGE = "language"


# Whole-message keywords only: "please stop texting me" is feedback for a person, not a keyword.
# STOP words include all of Twilio's default opt-out keywords (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT,
# OPTOUT, REVOKE), so whatever Twilio blocks we stop too. START words include Twilio's START and UNSTOP but
# not its third opt-in word, YES: YES answers our yes/no questions, and after a STOP only an unambiguous word
# brings a victim of crime back (docs/channels.md, "STOP and START", explains the Twilio setting to match).
_WORDS: dict[Keyword, frozenset[str]] = {
    Keyword.STOP: frozenset(
        {"stop", "stopall", "unsubscribe", "end", "quit", "optout", "opt out", "opt-out", "cancel", "stop all",
         "revoke"}
    ),
    Keyword.START: frozenset({"start", "unstop", "opt in", "optin", "opt-in"}),
    Keyword.HELP: frozenset({"help", "info", "pomoc", "madad", "ajutor", "مدد", "مساعدة"}),
    Keyword.SKIP: frozenset({"skip", "pass", "next", "skip it", "pomiń", "pomin", "chhor do", "sari", "sări"}),
    Keyword.LANGUAGE: frozenset({"language", "languages", "lang", "język", "jezyk", "zaban", "limba", "limbă"}),
}

#: Names a victim may type to switch language directly, mapped to language codes.
LANGUAGE_NAMES: dict[str, str] = {
    "english": "en",
    "polski": "pl",
    "polish": "pl",
    "urdu": "ur",
    "اردو": "ur",
    "punjabi": "pa",
    "panjabi": "pa",
    "ਪੰਜਾਬੀ": "pa",
    "bangla": "bn",
    "bengali": "bn",
    "বাংলা": "bn",
    "arabic": "ar",
    "عربي": "ar",
    "العربية": "ar",
    "romana": "ro",
    "română": "ro",
    "romanian": "ro",
    "cymraeg": "cy",
    "welsh": "cy",
}

#: How each language names itself, for the language menu.
LANGUAGE_SELF_NAMES: dict[str, str] = {
    "en": "English",
    "pl": "Polski",
    "ur": "Urdu",
    "pa": "Punjabi",
    "bn": "Bangla",
    "ar": "Arabic",
    "ro": "Romana",
    "cy": "Cymraeg",
}

_PUNCT = re.compile(r"[\s\.\!\?,;:'\"()\-]+")


def normalise(text: str) -> str:
    """Case-fold, NFC-normalise and trim punctuation so ``" Stop! "`` reads as ``"stop"``."""
    folded = unicodedata.normalize("NFC", text).casefold().strip()
    folded = _PUNCT.sub(" ", folded).strip()
    return folded


def parse_keyword(text: str) -> Keyword | None:
    """The keyword a whole message is, if it is one."""
    norm = normalise(text)
    for keyword, words in _WORDS.items():
        if norm in words:
            return keyword
    return None


def parse_language_name(text: str) -> str | None:
    """The language code when the whole message names a language (``"Polski"`` → ``"pl"``)."""
    return LANGUAGE_NAMES.get(normalise(text))
