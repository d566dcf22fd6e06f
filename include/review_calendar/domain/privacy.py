"""The one masking rule for contact data in messages, logs, dry runs and pages.

Phones keep their last four digits (``138****5678``, ``0311-****3218``); e-mail
addresses keep the first letter of the local part and the domain
(``w***@example.cn``). Contact data is never written to a log unmasked.
"""

from __future__ import annotations

import re

_EMAIL_IN_TEXT = re.compile(r"([A-Za-z0-9._%+!#$&'*/=?^`{|}~-]+)@([A-Za-z0-9.-]+\.[A-Za-z]{2,63})")
_MOBILE_IN_TEXT = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)")
_PHONE_IN_TEXT = re.compile(r"(?<!\d)\(?0\d{2,3}\)?[- ]?[2-9]\d{6,7}(?:-\d{1,6})?(?!\d)")
_DIGITS_IN_TEXT = re.compile(r"(?<!\d)(?:\d[- ]?){7,}\d(?!\d)")


def mask_phone(text: str) -> str:
    """A mobile or landline number with all but its last four digits hidden.

    ``13812345678`` → ``138****5678``; ``0311-87653218`` → ``0311-****3218``;
    fewer than 7 digits → ``****``.
    """
    digits = re.sub(r"\D", "", text)
    if len(digits) < 7:
        return "****"
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if digits.startswith("1") and len(digits) == 11:
        return f"{digits[:3]}****{digits[-4:]}"
    area = re.match(r"\(?(0\d{2,3})\)?[- ]?", text.strip())
    if area:
        return f"{area.group(1)}-****{digits[-4:]}"
    return f"****{digits[-4:]}"


def mask_email(address: str) -> str:
    """An e-mail address with its local part hidden: ``wang@example.cn`` → ``w***@example.cn``."""
    local, at, domain = address.strip().partition("@")
    if not at or not domain:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_contact(kind: str, text: str) -> str:
    """Mask one contact value of a known kind.

    Args:
        kind: ``mobile``, ``phone`` or ``email``; anything else is returned unchanged.
        text: The value.
    """
    if kind in ("mobile", "phone"):
        return mask_phone(text)
    if kind == "email":
        return mask_email(text)
    return text


def mask_text(text: str) -> str:
    """Mask every e-mail address and phone number in free text (error messages, log lines)."""
    text = _EMAIL_IN_TEXT.sub(lambda m: mask_email(m.group(0)), text)
    text = _MOBILE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)), text)
    text = _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)), text)
    return _DIGITS_IN_TEXT.sub(lambda m: mask_phone(m.group(0)), text)
