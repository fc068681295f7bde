"""Redaction on replies with known personal details: every detail goes, the rest stays readable."""

from __future__ import annotations

import pytest

from feedbackbot.insights.redaction import RedactionContext, Redactor

CONTEXT = RedactionContext.of("Sarah Jones", "DC Priya Sandhu", "20/400101/26")
CASES = [
    ("PC Smith rang me on 07700 900123 about 20/400101/26",
     "PC [name] rang me on [phone] about [case reference]", ["Smith", "07700", "400101"]),
    ("my neighbour John keeps parking his car AB12 CDE outside 14 Elm Grove, Coventry CV1 2AB",
     "my neighbour [name] keeps parking his car [vehicle registration] outside [address] [postcode]",
     ["John", "AB12", "Elm Grove", "CV1"]),
    ("Email me at jane.doe@example.com or ring +44 121 496 0000. DOB 12/03/1985.",
     "Email me at [email] or ring [phone]. DOB [date of birth].", ["jane", "496", "1985"]),
    ("I was born on 3rd March 1979 and my crime number is CR12345678",
     "I was born on [date of birth] and my [case reference]", ["1979", "CR1234"]),
    ("Thank you to DC Priya Sandhu, she was brilliant. Victim Support called me too.",
     "Thank you to DC [name], she was brilliant. Victim Support called me too.", ["Priya", "Sandhu"]),
    ("This is Sarah, my number changed to 0121 496 0123, flat 2, 221 Broad Street please",
     "This is [name], my number changed to [phone], [address] please", ["Sarah", "0121", "221"]),
    ("the man in the red Ford, reg Y123 ABC, was my ex-partner Darren",
     "the man in the red Ford, reg [vehicle registration], was my ex-partner [name]", ["Y123", "Darren"]),
    ("Spoke to Sergeant Khan on 07700900456 and he said wait for Mrs Begum to call",
     "Spoke to Sergeant [name] on [phone] and he said wait for Mrs [name] to call", ["Khan", "456", "Begum"]),
    ("write to me at 7 Church Lane, B15 2TT or sarah_j@mail.co.uk",
     "write to me at [address], [postcode] or [email]", ["Church", "B15", "mail.co.uk"]),
    ("the man's name from a neighbour, it's Gary Nolan. Kind regards, Margaret Ellison",
     "the man's name from a neighbour, it's [name]. Kind regards, [name]", ["Gary", "Nolan", "Margaret", "Ellison"]),
    ("Could be his. Name on it is R Clarke", "Could be his. Name on it is [name]", ["Clarke"]),
    ("My son Tyler's date of birth is 04/11/2009 and he was there",
     "My son [name]'s date of birth is [date of birth] and he was there", ["Tyler", "2009"]),
]
KEPT = [
    "Nobody has called me back about the burglary and it has been three weeks",
    "The officer who came was kind and took time to explain everything",
    "Waited over forty minutes on 101 before anyone answered",
    "The court date has been moved twice and no one told me why",
    "I needed an interpreter and had to use my son instead",
    "Victim Support were great, West Midlands Police less so",
]


@pytest.mark.parametrize(("text", "expected", "gone"), CASES)
def test_every_detail_is_removed(text: str, expected: str, gone: list[str]) -> None:
    redacted = Redactor().redact(text, CONTEXT)
    for detail in gone:
        assert detail not in redacted
    assert redacted == expected


@pytest.mark.parametrize("text", KEPT)
def test_ordinary_words_stay_readable(text: str) -> None:
    assert Redactor().redact(text, CONTEXT) == text
