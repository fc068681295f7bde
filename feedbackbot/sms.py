"""SMS segment counting: GSM-7 where every character allows it, UCS-2 otherwise."""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = "^{}\\[~]|€\f"
_BASIC = frozenset(GSM7_BASIC) - {"\x1b"}
_EXTENDED = frozenset(GSM7_EXTENDED)


@dataclass(frozen=True)
class SegmentCount:
    """How a text travels by SMS: its encoding, its length in that encoding's units, and its segments."""

    encoding: str
    units: int
    segments: int


def non_gsm_characters(text: str) -> list[str]:
    """The characters of ``text`` that force UCS-2, in order of first appearance."""
    seen: list[str] = []
    for ch in text:
        if ch not in _BASIC and ch not in _EXTENDED and ch not in seen:
            seen.append(ch)
    return seen


def count_segments(text: str) -> SegmentCount:
    """Count SMS segments the way carriers do (153 septets or 67 UTF-16 units per part of a long message)."""
    if not non_gsm_characters(text):
        units = sum(2 if ch in _EXTENDED else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    if units == 0:
        return SegmentCount(encoding, 0, 1)
    if units <= single:
        return SegmentCount(encoding, units, 1)
    return SegmentCount(encoding, units, -(-units // multi))
