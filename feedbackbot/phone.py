"""Phone numbers: parse what people type into E.164, and say clearly why a number will not do."""

from __future__ import annotations

import phonenumbers

#: Ofcom reserves 07700 900000–900999 for drama and testing; we accept it so demos never text a real person.
_DRAMA_PREFIX = "+447700900"


class PhoneError(ValueError):
    """A phone number that cannot be used, with the reason in plain words."""


def normalise_phone(raw: str, *, region: str = "GB", mobile: bool = False) -> str:
    """``"07700 900123"`` → ``"+447700900123"``; PhoneError if it is not a usable number."""
    text = raw.strip()
    if not text:
        raise PhoneError("is empty")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise PhoneError(f"{raw!r} is not a phone number") from None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if e164.startswith(_DRAMA_PREFIX) and len(e164) == 13:
        return e164
    if not phonenumbers.is_valid_number(number):
        raise PhoneError(f"{raw!r} is not a valid phone number")
    if mobile and phonenumbers.number_type(number) not in {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }:
        raise PhoneError(f"{raw!r} is not a mobile number, so it cannot receive SMS or WhatsApp")
    return e164
