"""Normalisation of the formats Chinese users type: phones, emails, names, ID numbers."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from email_validator import EmailNotValidError, validate_email

_CN_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


class FormatError(ValueError):
    """A value that can't be normalised; the message is shown to the user."""


def normalize_phone(raw: str, region: str = "CN") -> str:
    """Return E.164 (``+8613812345678``). Chinese mobiles must be 11 digits starting 13–19.

    Accepts spaces, dashes, full-width digits, ``+86``/``0086``/``86`` prefixes and landlines
    with area codes (``010-12345678``).
    """
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if not text:
        raise FormatError("phone is empty")
    digits = re.sub(r"[\s\-()（）.]", "", text)
    if digits.startswith("0086"):
        digits = "+86" + digits[4:]
    if re.fullmatch(r"86\d{11}", digits):
        digits = "+" + digits
    if not re.fullmatch(r"\+?\d{5,20}", digits):
        raise FormatError(f"phone {raw!r} contains characters that are not digits")
    national = digits[3:] if digits.startswith("+86") else digits
    is_cn = digits.startswith("+86") or not digits.startswith("+")
    # Beijing landlines are +86 10 …; every other national number starting with 1 is a mobile.
    if is_cn and national.startswith("1") and not national.startswith("10"):
        if not _CN_MOBILE.fullmatch(national):
            raise FormatError(f"mobile number {raw!r} must have 11 digits starting with 13–19")
        return "+86" + national
    try:
        num = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        raise FormatError(f"phone {raw!r} is not a valid number") from None
    if not phonenumbers.is_valid_number(num):
        raise FormatError(f"phone {raw!r} is not a valid number")
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


def national_display(e164: str) -> str:
    """``+8613812345678`` → ``13812345678``, ``+861012345678`` → ``01012345678``."""
    if not e164.startswith("+86"):
        return e164
    rest = e164[3:]
    return rest if _CN_MOBILE.fullmatch(rest) else "0" + rest


def mask_phone(e164: str | None) -> str | None:
    """``+8613812345678`` → ``138****5678`` (what a role without the right sees)."""
    if not e164:
        return e164
    n = national_display(e164)
    if len(n) <= 7:
        return "*" * len(n)
    return n[:3] + "*" * (len(n) - 7) + n[-4:]


def normalize_email(raw: str) -> str:
    text = (raw or "").strip()
    try:
        info = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise FormatError(f"email {text!r} is not valid: {exc}") from None
    return info.normalized.lower()


def normalize_id_number(raw: str) -> str:
    """Chinese resident ID (18 chars, GB 11643 check digit)."""
    text = unicodedata.normalize("NFKC", raw or "").strip().upper()
    if not _ID_NUMBER.fullmatch(text):
        raise FormatError("ID number must be 17 digits followed by a digit or X")
    total = sum(int(d) * w for d, w in zip(text[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != text[17]:
        raise FormatError("ID number check digit is wrong")
    return text


def mask_id_number(value: str | None) -> str | None:
    if not value:
        return value
    if len(value) <= 7:  # too short to show both ends without showing all of it
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def normalize_name(raw: str) -> str:
    """Company/person names: NFKC (full-width → half-width), collapsed spaces."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", raw or "")).strip()
