"""What the fuzzer types into a form: values the page offers or that look right, and hostile ones.

A submission is a list of (name, value) pairs, so a field can be missing, sent once, or sent
several times. Values are text, or raw bytes that are not UTF-8 at all (a browser never sends
them, a crafted request can: lone surrogates cannot travel as UTF-8, so their byte forms do).
"""

from __future__ import annotations

import io
import string
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from tests.fuzz.html_forms import TEXT_KINDS, Field, Form

# Text a careless or hostile person might type or paste.
NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\x00" * 3,
    "\x07\x08\x1b[31m",
    "\r\n\r\n",
    "\t",
    "\u202egnp.exe",
    "\u200f\u200e\u200b",
    "\ufeff",
    "\ufffd",
    "\U0001f600\U0001d518\U000e0041",
    "Z\u0351\u0360\u0335a\u036d\u0306l\u0363\u036cg\u0367o",
    "=1+1",
    '=HYPERLINK("http://example.com")',
    "+44 20 7946 0000",
    "-1",
    "@SUM(A1:A9)",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7 * 7 }}",
    "${jndi:ldap://example.com/a}",
    "' OR 1=1 --",
    '"; DROP TABLE "user"; --',
    "%00",
    "%s%s%s%n",
    "../../../../etc/passwd",
    "//example.com",
    "https://example.com/next",
    "javascript:alert(1)",
    "\\\\server\\share",
    "0",
    "-0",
    "00000000001",
    "1.5",
    "1e309",
    "NaN",
    "Infinity",
    "-9223372036854775809",
    "99999999999999999999999999999999",
    "0x10",
    "\u00b2",
    "\u0661\u0662",
    "\uff11\uff12",
    "true",
    "null",
    "None",
    "[]",
    "{}",
]
# Bytes that are not UTF-8: a stray continuation byte, an overlong slash, a lone surrogate
# (U+D800 as CESU bytes), a code point past U+10FFFF, and a truncated sequence.
NOT_UTF8 = [b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"abc\xe2\x82", b"\x80\x00\xfe"]
URL_SAFE = string.ascii_letters + string.digits + "-_"

Value = str | bytes


@dataclass(frozen=True)
class Upload:
    """A file sent in a multipart form."""

    content: bytes
    filename: str
    content_type: str


@dataclass(frozen=True)
class Hints:
    """Values from the world that look right to a field the page leaves empty."""

    emails: tuple[str, ...] = ()
    passwords: tuple[str, ...] = ()
    people: tuple[str, ...] = ()  # user ids, for "choose a person" fields


def unicode_text(max_size: int = 40) -> st.SearchStrategy[str]:
    # Every code point UTF-8 can carry: astral planes, combining marks, controls, NUL.
    return st.text(st.characters(codec="utf-8"), max_size=max_size)


def long_text() -> st.SearchStrategy[str]:
    """Long values, cheaply: one chunk repeated (drawing 5,000 characters one by one is slow)."""
    chunks = st.sampled_from(["a", "é", "\U0001f600", "\x00", " ", "<b>", "1", "\u202e"])
    return st.builds(lambda chunk, count: chunk * count, chunks, st.integers(250, 5_000))


def hostile() -> st.SearchStrategy[Value]:
    # Long values are the costliest to send and to show back, so they come up least often.
    return st.one_of(
        st.sampled_from(NASTY),
        st.sampled_from(NASTY),
        unicode_text(),
        unicode_text(),
        st.text(st.characters(max_codepoint=0x1F), min_size=1, max_size=8),
        st.sampled_from(NOT_UTF8),
        st.binary(max_size=12),
        long_text(),
    )


def _date_parts() -> st.SearchStrategy[list[str]]:
    """Day, month and year boxes: mostly a real date near today, else numbers that may not make one."""
    today = date.today()
    real = st.dates(today - timedelta(days=3 * 365), today + timedelta(days=40))
    day = st.integers(-1, 32).map(str)
    month = st.integers(-1, 13).map(str)
    year = st.sampled_from(["2024", "2025", "2026", "2027", "1900", "0001", "9999", "26", "20266"])
    return st.one_of(
        real.map(lambda on: [str(on.day), str(on.month), str(on.year)]),
        real.map(lambda on: [str(on.day), str(on.month), str(on.year)]),
        st.tuples(day, month, year).map(list),
    )


def looks_like(sample: str) -> st.SearchStrategy[str]:
    """Another value of the same shape as `sample`: digits for digits, a key for a key."""
    if sample.isdigit():
        return st.integers(0, 10 ** max(1, len(sample))).map(str)
    alphabet = URL_SAFE if sample and all(c in URL_SAFE for c in sample) else string.printable
    return st.text(st.sampled_from(alphabet), min_size=max(0, len(sample) - 4), max_size=len(sample) + 4)


def plausible(found: Field, hints: Hints) -> st.SearchStrategy[Value]:
    """One value that a person using the page might well send."""
    offered = [value for value in found.options + found.values if value]
    choices: list[st.SearchStrategy[Value]] = []
    if offered:
        choices.append(st.sampled_from(offered))
    if found.kind == "person":
        choices.append(st.sampled_from(hints.people))
    elif found.kind == "hidden":
        choices.extend(looks_like(value) for value in found.values)
    elif found.kind == "password":
        choices.append(st.sampled_from(hints.passwords))
        choices.append(st.text(st.sampled_from(string.ascii_letters + " "), min_size=8, max_size=40))
    elif found.kind == "email" or "email" in found.name:
        choices.append(st.sampled_from(hints.emails))
        choices.append(st.emails().map(str))
    elif found.numeric:
        choices.append(st.integers(-2, 200).map(str))
    elif found.kind in TEXT_KINDS:
        words = st.sampled_from(["Tom", "Sian", "parent", "child", "A quiet session.", "GAD-7", "12", "2"])
        choices.append(st.lists(words, min_size=1, max_size=6).map(" ".join))
    return st.one_of(choices) if choices else st.just("")


def field_values(found: Field, hints: Hints) -> st.SearchStrategy[list[Value]]:
    """What one field sends: usually as many plausible values as it has boxes; sometimes hostile,
    missing, or one box more or fewer (a date with no year, a choice sent twice)."""
    # A group of radios (or a select, a button, a chosen person) sends one value; boxes sharing a name, one each.
    some = 1 if found.kind in {"radio", "select", "button", "person"} else max(1, found.boxes)
    if found.numeric and found.boxes == 3:
        good = _date_parts()
    elif found.kind == "checkbox" or found.multiple:
        good = st.lists(plausible(found, hints), max_size=len(found.options) + 1)
    else:
        good = st.lists(plausible(found, hints), min_size=some, max_size=some)
    mixed = st.lists(st.one_of(plausible(found, hints), hostile()), min_size=some, max_size=some)
    # Mostly plausible, so that a submission gets past its first mistake to the checks behind it,
    # and most examples have only a field or two of hostile text.
    return st.one_of(
        *[good] * 7,
        mixed,
        st.lists(hostile(), min_size=1, max_size=some),
        st.just([]),
        st.lists(plausible(found, hints), min_size=some + 1, max_size=some + 2),
    )


def uploads() -> st.SearchStrategy[Upload]:
    contents = st.one_of(
        st.just(b"%PDF-1.4\n% a statement\n%%EOF\n"),
        st.just(b"PK\x03\x04" + b"\x00" * 26),
        st.binary(max_size=64),
        st.just(b""),
    )
    names = st.one_of(
        st.sampled_from(["statement.pdf", "statement.docx", "x.exe", "../../evil.pdf", ".pdf", "a\x00.pdf", ""]),
        unicode_text(20).map(lambda text: text + ".pdf"),
    )
    types = st.sampled_from(["application/pdf", "application/octet-stream", "text/html", "", "image/svg+xml"])
    return st.builds(Upload, contents, names, types)


def submissions(form: Form, hints: Hints, csrf_token: str) -> st.SearchStrategy[list[tuple[str, object]]]:
    """Pairs for one submission of `form`: its fields fuzzed, a valid CSRF token, perhaps extras."""
    parts = []
    for found in form.fields.values():
        if found.name == "csrf_token":
            continue
        values = st.lists(uploads(), max_size=2) if found.kind == "file" else field_values(found, hints)
        parts.append(values.map(lambda values, name=found.name: [(name, value) for value in values]))
    extra_names = st.sampled_from(["id", "user_id", "is_admin", "role", "csrf_token_", "version", "__proto__", "\x00"])
    extras = st.lists(st.tuples(extra_names, hostile()), max_size=2)

    def assemble(drawn: list[list[tuple[str, object]]], extra: list[tuple[str, object]]) -> list[tuple[str, object]]:
        pairs = [("csrf_token", csrf_token)]
        for field_pairs in drawn:
            pairs.extend(field_pairs)
        return pairs + extra

    return st.builds(assemble, st.tuples(*parts).map(list) if parts else st.just([]), extras)


def encode(pairs: list[tuple[str, object]], multipart: bool) -> dict:
    """Keyword arguments for the test client's `post`: a url-encoded body built by hand (so bytes
    that are not UTF-8 go through as they are), or multipart form data with any files."""
    if not multipart:
        body = urlencode([(name, value) for name, value in pairs], encoding="utf-8")
        return {"data": body, "content_type": "application/x-www-form-urlencoded"}
    data: list[tuple[str, object]] = []
    for name, value in pairs:
        if isinstance(value, Upload):
            data.append((name, (io.BytesIO(value.content), value.filename, value.content_type)))
        elif isinstance(value, bytes):
            data.append((name, io.BytesIO(value)))  # a part with no file name: a field of raw bytes
        else:
            data.append((name, value))
    return {"data": MultiDict(data), "content_type": "multipart/form-data"}
