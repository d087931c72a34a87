"""Refuse free text that looks like it identifies a client (DESIGN: anonymity rules).

vigtrain keeps no names, dates of birth, addresses, postcodes, NHS numbers or contact details
for clients. Free-text fields are screened before saving: anything that looks like one of these
is refused with a message saying what was found, and nothing is saved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vigtrain.errors import DomainError

MONTHS = (
    "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    "sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
# UK postcodes (including partial spacing), e.g. SW1A 1AA, M1 1AE, B33 8TH, CR2 6XH, DN55 1PT.
POSTCODE = re.compile(r"\b(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})\b", re.IGNORECASE)
# Ten digits, optionally grouped 3-3-4 with spaces or hyphens: checked with the NHS modulus 11 rule.
TEN_DIGITS = re.compile(r"(?<![\d])(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?![\d])")
# UK phone numbers: 07xxx xxxxxx, 01/02/03 landlines, +44 forms; 10 or 11 digits with separators.
PHONE = re.compile(r"(?<![\d+])(?:\+44\s?\(?0?\)?\s?|\(?0)(?:\d[\s\-()]?){9,10}(?![\d])")
FULL_DATE = re.compile(
    r"\b(?:\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})"
    r"|\d{4}-\d{1,2}-\d{1,2}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{MONTHS})\.?,?\s+\d{{4}}"
    rf"|(?:{MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})\b",
    re.IGNORECASE,
)


def valid_nhs_number(digits: str) -> bool:
    """NHS numbers: ten digits whose tenth is the modulus 11 check digit of the first nine."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(digit) * weight for digit, weight in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


@dataclass(frozen=True)
class Finding:
    kind: str
    text: str


def find_identifiers(text: str | None) -> list[Finding]:
    """Everything in `text` that looks like a client identifier, in order of kind."""
    if not text:
        return []
    findings: list[Finding] = []
    findings += [Finding("an email address", m.group(0)) for m in EMAIL.finditer(text)]
    nhs_spans = []
    for match in TEN_DIGITS.finditer(text):
        if valid_nhs_number("".join(match.groups())):
            findings.append(Finding("an NHS number", match.group(0)))
            nhs_spans.append(match.span())
    for match in PHONE.finditer(text):
        if not any(start <= match.start() < end for start, end in nhs_spans):
            findings.append(Finding("a phone number", match.group(0).strip()))
    findings += [Finding("a postcode", m.group(0)) for m in POSTCODE.finditer(text)]
    findings += [Finding("a full date (it could be a date of birth)", m.group(0)) for m in FULL_DATE.finditer(text)]
    return findings


def screen(text: str | None, field: str) -> str | None:
    """Return the text stripped, or raise a DomainError beside `field` naming what was found."""
    findings = find_identifiers(text)
    if findings:
        first = findings[0]
        more = f" and {len(findings) - 1} more" if len(findings) > 1 else ""
        raise DomainError(
            f"Remove {first.kind} (“{first.text}”){more}. vigtrain must not hold details that could "
            "identify a client: no names, dates of birth, addresses, postcodes, NHS numbers or contact details.",
            field=field,
        )
    return text.strip() if text else text
