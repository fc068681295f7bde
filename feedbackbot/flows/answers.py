"""Understanding answers: yes/no, numbered choices with synonyms, scales and numbers, in several languages."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .keywords import normalise
from .model import Step

_YES = frozenset(
    {
        "yes", "y", "yeah", "yea", "yep", "yup", "ya", "yes please", "sure", "correct", "definitely",
        "yes they did", "yes i was", "of course", "absolutely", "aye", "1",
        "tak", "haan", "han", "haa", "ji haan", "ji han", "ji", "hanji", "haanji", "da", "hyan",
        "হ্যাঁ", "হা", "نعم", "ہاں", "ਹਾਂ", "naam", "aiwa",
    }
)  # fmt: skip
_NO = frozenset(
    {
        "no", "n", "nope", "nah", "na", "not really", "no they didn't", "no they did not", "never",
        "not at all", "2", "nie", "nahi", "nahin", "nai", "nhi", "ji nahi", "nu", "না", "لا", "نہیں", "ਨਹੀਂ",
        "la", "nahi ji", "no thanks",
    }
)  # fmt: skip

_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5,
    "jeden": 1, "dwa": 2, "trzy": 3, "cztery": 4, "pięć": 5, "piec": 5,
    "ek": 1, "teen": 3, "char": 4, "chaar": 4, "paanch": 5, "panj": 5,
    "unu": 1, "doi": 2, "trei": 3, "patru": 4, "cinci": 5,
}  # fmt: skip
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:[.,]\d+)?(?![\w])")
_WORD = re.compile(r"\w+", re.UNICODE)
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹০১২৩৪৫৬৭৮৯", "0123456789" * 3)


@dataclass(frozen=True)
class Understood:
    """An answer the engine understood: a value for storage and, for numbers, its number.

    ``extra`` is True when the victim wrote more than the answer itself ("yes, PC Khan called me
    twice") so that the words can also be read by a person.
    """

    value: str
    number: float | None = None
    extra: bool = False


def word_count(text: str) -> int:
    """How many words a reply has."""
    return len(_WORD.findall(text))


def _numbers(text: str) -> list[float]:
    found = [float(m.replace(",", ".")) for m in _NUMBER.findall(text.translate(_DIGITS))]
    for word in _WORD.findall(normalise(text)):
        if word in _NUMBER_WORDS:
            found.append(float(_NUMBER_WORDS[word]))
    return found


def _yes_no(text: str) -> Understood | None:
    norm = normalise(text)
    if norm in _YES:
        return Understood("yes")
    if norm in _NO:
        return Understood("no")
    words = norm.split()
    if not words:
        return None
    for size in (3, 2, 1):
        head = " ".join(words[:size])
        if len(words) > size:
            if head in _YES - {"1"}:
                return Understood("yes", extra=word_count(text) > 3)
            if head in _NO - {"2"}:
                return Understood("no", extra=word_count(text) > 3)
    return None


def _choice(step: Step, text: str, language: str) -> Understood | None:
    norm = normalise(text)
    nums = [n for n in _numbers(text) if n.is_integer()]
    if norm.isdigit() or (len(nums) == 1 and word_count(text) <= 3):
        index = int(nums[0]) if nums else int(norm)
        if 1 <= index <= len(step.options):
            return Understood(step.options[index - 1].id)
        return None
    candidates: dict[str, set[str]] = {}
    for option in step.options:
        words = {normalise(option.id.replace("_", " ")), normalise(option.text.get(language))}
        words.add(normalise(option.text.get("en")))
        for lang in {language, "en"}:
            words.update(normalise(s) for s in option.synonyms.get(lang, ()))
        candidates[option.id] = {w for w in words if w}
    exact = [oid for oid, words in candidates.items() if norm in words]
    if len(exact) == 1:
        return Understood(exact[0])
    padded = f" {norm} "
    contained = [oid for oid, words in candidates.items() if any(f" {w} " in padded for w in words)]
    if len(contained) == 1:
        return Understood(contained[0], extra=word_count(text) > 4)
    return None


def _scale(step: Step, text: str) -> Understood | None:
    nums = _numbers(text)
    in_range = [n for n in nums if n.is_integer() and step.min <= n <= step.max]
    # "4/5" or "4 out of 5": the second number is the scale's top, not a second answer.
    if len(nums) == 2 and nums[1] == step.max and len(in_range) >= 1:
        in_range = [nums[0]] if nums[0] in in_range else []
    if len(set(in_range)) == 1:
        value = int(in_range[0])
        return Understood(str(value), float(value), extra=word_count(text) > 4)
    return None


def _number(text: str) -> Understood | None:
    nums = _numbers(text)
    if len(nums) == 1:
        value = nums[0]
        shown = str(int(value)) if value.is_integer() else str(value)
        return Understood(shown, value, extra=word_count(text) > 4)
    return None


def understand(step: Step, text: str, language: str) -> Understood | None:
    """The answer ``text`` gives to question ``step``, or None when it cannot be understood."""
    if not text.strip():
        return None
    if step.kind == "text":
        return Understood(text.strip())
    if step.kind == "yes_no":
        return _yes_no(text)
    if step.kind == "choice":
        return _choice(step, text, language)
    if step.kind == "scale":
        return _scale(step, text)
    if step.kind == "number":
        return _number(text)
    return None
