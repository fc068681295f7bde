"""Redaction of personal details from victims' words before the board sees them.

Replaced, in this order: email addresses ``[email]``, case references ``[case reference]``, phone numbers
``[phone]`` (the ``phonenumbers`` matcher for UK and international numbers, plus a pattern for spaced or
partial numbers), dates of birth ``[date of birth]`` and other full dates ``[date]``, UK postcodes
``[postcode]``, street addresses ``[address]``, vehicle registrations ``[vehicle registration]`` and
names ``[name]`` — the victim's and officer's names from the case, and names after a rank or title
("PC Smith"), a relation ("my neighbour John") or an introduction ("called Dave", "spoke to Sarah").

>>> Redactor().redact("PC Smith rang 07700 900123 about 20/400101/26")
'PC [name] rang [phone] about [case reference]'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_CASE_REF = re.compile(
    r"\b\d{2}/\d{5,7}/\d{2}\b"
    r"|\b(?:crime|case|incident|log|reference|ref)\s*(?:no\.?|number|num|ref)?\s*(?:is\s+)?[:#]?\s*(?=[A-Z0-9/-]*\d)"
    r"[A-Z0-9][A-Z0-9/-]{4,}\b", re.IGNORECASE)
_PHONE = re.compile(r"(?<![\w\]])(?:\+\s?44\s?\(?0?\)?|0)\s?\d(?:[\s-]?\d){8,9}(?![\w\[])")
_MONTHS = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|" \
          r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_DATE = (rf"(?:\d{{1,2}}[/.-]\d{{1,2}}[/.-](?:19|20)?\d{{2}}|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}"
         rf"\s*,?\s*(?:19|20)\d{{2}}|{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?:19|20)\d{{2}})")
_DOB = re.compile(rf"\b((?:d\.?o\.?b\.?|date of birth|born(?:\s+on)?|birthday(?:\s+is)?)(?:\s+is)?\s*[:\-]?\s*){_DATE}",
                  re.IGNORECASE)
_FULL_DATE = re.compile(rf"\b{_DATE}\b", re.IGNORECASE)
_POSTCODE = re.compile(r"\b(?:GIR ?0AA|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})\b", re.IGNORECASE)
_STREET = (r"(?:Road|Rd|Street|St|Avenue|Ave|Lane|Ln|Close|Drive|Dr|Way|Court|Ct|Crescent|Place|Pl|Grove|Gardens|"
           r"Terrace|Hill|Walk|Row|Square|Park|View|Mews|Rise|Green|Parade|Croft|Meadow|Fields)")
_ADDRESS = re.compile(
    rf"\b(?:(?:flat|apartment|unit)\s+\d+[a-z]?,?\s+)?\d{{1,4}}[a-z]?,?\s+(?:[A-Z][\w'-]+\s+){{1,3}}{_STREET}\b"
    rf"(?:,?\s+[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?(?=[,.]|\s+\[postcode\]))?")
_VEHICLE = re.compile(r"\b(?:[A-Z]{2}\d{2}\s?[A-Z]{3}|[A-Z]\d{1,3}\s?[A-Z]{3}|[A-Z]{3}\s?\d{1,3}[A-Z])\b")
_VEHICLE_LOWER = re.compile(r"\b[a-z]{2}\d{2}\s?[a-z]{3}\b", re.IGNORECASE)
_WORD = r"[A-Z][a-z]+(?:['’-][A-Z][a-z]+)?"
_NAME = rf"{_WORD}(?: {_WORD})?"
_TITLED = re.compile(
    r"\b((?:PC|PCSO|WPC|DC|DS|DI|DCI|Sgt|Sergeant|Insp|Inspector|Constable|Officer|Detective|Mr|Mrs|Ms|Miss|Dr|"
    rf"Sister|Nurse)\.?\s+){_NAME}")
_RELATION = re.compile(
    r"\b((?i:my|our|his|her|their|the)\s+(?i:ex[- ]?partner|ex[- ]?husband|ex[- ]?wife|neighbour|neighbor|husband|"
    r"wife|partner|ex|boyfriend|girlfriend|son|daughter|brother|sister|mum|mom|mother|dad|father|friend|landlord|"
    r"landlady|colleague|boss|uncle|aunt|auntie|cousin|nephew|niece|carer|stepdad|stepmum|grandson|granddaughter)"
    rf",?\s+(?i:called\s+|named\s+)?){_NAME}")
_INTRO = re.compile(
    r"\b((?i:called|named|name is|name's|name on it is|name|I'm|I am|spoke to|speak to|speaking to|spoke with|"
    r"thanks to|thank you to|(?:kind |best |warm )?regards|thanks|cheers|many thanks|best wishes|love|"
    rf"ask(?:ed)? for|from|officer|with)\s+){_NAME}")
#: Common first names in the force area; one of these (and a capitalised word after it) is redacted anywhere.
FIRST_NAMES = frozenset("""
Aaron Abdul Abdullah Adam Adrian Agnieszka Ahmed Aisha Alan Alex Alexander Ali Alice Alison Amanda Amber Amelia
Amina Amir Amy Andrew Andrzej Angela Anil Ann Anna Anne Anthony Arjun Asif Ayesha Barbara Barry Becky Ben Beth
Bilal Bob Brian Callum Carl Caroline Catherine Charlie Charlotte Chloe Chris Christine Claire Craig Dan Daniel
Danny Darren Dave David Dawn Dean Debbie Dennis Donna Dylan Ed Elizabeth Ella Ellie Emily Emma Eric Fatima Gary
Gemma Georgia Grace Graham Gurpreet Hannah Harjit Harpreet Harry Hassan Hayley Helen Ian Imran Isabella Jack Jade
Jake James Jamie Jan Jane Jas Jason Jasmine Jaspreet Jay Jayden Jennifer Jess Jessica Joanne Joe John Jon Jordan
Josh Joshua Julie Justyna Kamil Karen Kasia Kate Katie Kayleigh Kerry Kev Kevin Khalid Kieran Kim Kirsty Krzysztof
Kwame Kyle Laura Lauren Leanne Lee Leon Liam Lisa Lorraine Louise Lucy Luke Lynn Maciej Mandeep Marcus Marek
Margaret Maria Mark Marta Martin Mary Matt Matthew Megan Mel Michael Michelle Mike Mohammed Mohammad Muhammad Nadia
Naomi Natalie Nathan Neil Nicola Nicole Nigel Noor Olivia Oliver Omar Paul Paula Pauline Pawel Peter Piotr Priya
Rachel Rajesh Rakesh Rebecca Richard Rob Robert Robbie Ryan Sadia Saima Sam Samantha Sandeep Sarah Scott Sean
Shabana Shane Sharon Shazia Simon Sophie Stacey Stephen Steve Stuart Sue Susan Tanya Tariq Terry Tom Tomasz Tony
Tracey Tyler Usman Vicky Wayne Wojciech Yasmin Yusuf Zainab Zara Zofia
""".split())
_FIRST = re.compile(rf"\b(?:{'|'.join(sorted(FIRST_NAMES))})\b(?: [A-Z][a-z]+(?:['’-][A-Z][a-z]+)?)?")
_INITIAL = re.compile(r"\b((?i:name on it is|name is|name:|named|called)\s+)[A-Z]\.? [A-Z][a-z]+")

#: Capitalised words that follow the cue words above but are not people's names.
_NOT_NAMES = frozenset("""
Victim Support Police Witness Care Court Crown Magistrates Samaritans Action Fraud Citizens Advice Council
Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July August
September October November December Christmas Easter The This That It He She They We You Not Very Really
Just So And But Or Yes No Ok Okay Please Thanks Thank West Midlands England Birmingham Coventry Wolverhampton
Walsall Sandwell Dudley Solihull London Google Facebook Whatsapp WhatsApp Telegram Email Text Ring Home Work
Hospital School Housing Social Services Professional Standards Control Room Safeguarding Team Response CID
Sergeant Sgt Inspector Insp Constable Officer Detective Mr Mrs Ms Miss Dr Sister Nurse Call Handler
""".split()) | {"PC", "PCSO", "WPC", "DC", "DS", "DI", "DCI"}


@dataclass(frozen=True)
class RedactionContext:
    """Names known from the case: the victim's and the officer's (each word is redacted wherever it appears)."""

    names: tuple[str, ...] = ()
    references: tuple[str, ...] = ()

    @classmethod
    def of(cls, *values: str | None) -> RedactionContext:
        """Context from the contact's display name, the officer's name and the case reference (any may be None)."""
        names: list[str] = []
        refs: list[str] = []
        for value in values:
            if not value:
                continue
            if any(ch.isdigit() for ch in value):
                refs.append(value)
                continue
            for word in re.findall(r"[A-Za-z][A-Za-z'’-]+", value):
                if len(word) >= 3 and word.capitalize() not in _RANKS and word.capitalize() not in _NOT_NAMES:
                    names.append(word)
        return cls(tuple(dict.fromkeys(names)), tuple(refs))


_RANKS = frozenset({"Pc", "Pcso", "Dc", "Ds", "Di", "Dci", "Sgt", "Sergeant", "Inspector", "Constable", "Officer",
                    "Detective", "Call", "Handler", "Mr", "Mrs", "Ms", "Miss", "Dr"})


def _name_sub(match: re.Match[str]) -> str:
    words = match.group(0)[len(match.group(1)):].split()
    if words and words[0].strip("'’") in _NOT_NAMES:
        return match.group(0)
    return f"{match.group(1)}[name]"


def _phone_numbers(text: str) -> str:
    spans = [(m.start, m.end) for m in phonenumbers.PhoneNumberMatcher(text, "GB")]
    for start, end in reversed(spans):
        text = f"{text[:start]}[phone]{text[end:]}"
    return _PHONE.sub("[phone]", text)


class Redactor:
    """Removes personal details from a piece of free text (see the module docstring for what and how)."""

    def redact(self, text: str, context: RedactionContext | None = None) -> str:
        """The text with personal details replaced by bracketed labels."""
        context = context or RedactionContext()
        out = _EMAIL.sub("[email]", text)
        for ref in context.references:
            out = re.sub(re.escape(ref), "[case reference]", out, flags=re.IGNORECASE)
        out = _CASE_REF.sub("[case reference]", out)
        out = _DOB.sub(r"\1[date of birth]", out)
        out = _FULL_DATE.sub("[date]", out)
        out = _phone_numbers(out)
        out = _POSTCODE.sub("[postcode]", out)
        out = _ADDRESS.sub("[address]", out)
        out = _VEHICLE.sub("[vehicle registration]", out)
        out = _VEHICLE_LOWER.sub(_vehicle_lower, out)
        for name in context.names:
            out = re.sub(rf"\b{re.escape(name)}\b", "[name]", out, flags=re.IGNORECASE)
        out = _TITLED.sub(_name_sub, out)
        out = _RELATION.sub(_name_sub, out)
        out = _INITIAL.sub(lambda m: f"{m.group(1)}[name]", out)
        out = _INTRO.sub(_name_sub, out)
        out = _FIRST.sub("[name]", out)
        return re.sub(r"\[name\](?:\s+\[name\])+", "[name]", out)


def _vehicle_lower(match: re.Match[str]) -> str:
    value = match.group(0)
    return "[vehicle registration]" if any(ch.isdigit() for ch in value) else value
