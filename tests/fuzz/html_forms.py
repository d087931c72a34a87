"""The forms a page renders, read from its HTML the way a browser would submit them.

Only what the fuzzer needs: each `<form method="post">` with its action and encoding, and for
every control its name, kind, the value the page gave it and the values it offers (options,
radios, checkboxes). Controls sharing a name (the GOV.UK date input's three boxes, a group of
checkboxes) become one field that sends several values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

TEXT_KINDS = frozenset({"text", "search", "email", "number", "tel", "url", "password", "date", "textarea"})


@dataclass
class Field:
    """One name the form sends: how many boxes carry it, and what the page put in or offered."""

    name: str
    kind: str  # an input type, "select", "textarea", "button" or "person" (a person picker's chosen id)
    boxes: int = 0
    values: list[str] = field(default_factory=list)  # what the page filled in (or ticked)
    options: list[str] = field(default_factory=list)  # what the page offers to choose from
    multiple: bool = False
    maxlength: int | None = None
    numeric: bool = False


@dataclass
class Form:
    action: str  # the path it posts to
    multipart: bool
    fields: dict[str, Field] = field(default_factory=dict)

    def add(self, name: str, kind: str) -> Field:
        found = self.fields.get(name)
        if found is None:
            found = self.fields[name] = Field(name, kind)
        found.boxes += 1
        return found


class _Reader(HTMLParser):
    def __init__(self, page_path: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_path = page_path
        self.forms: list[Form] = []
        self.form: Form | None = None
        self.select: Field | None = None
        self.option_value: str | None = None
        self.option_text = ""
        self.textarea: Field | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                action = urlsplit(urljoin(self.page_path, a.get("action") or self.page_path))
                self.form = Form(action.path, a.get("enctype", "") == "multipart/form-data")
                self.forms.append(self.form)
            return
        if self.form is None:
            return
        if tag == "div" and "data-person-picker" in a and a.get("data-field-name"):
            # The chosen person travels as a radio the page shows only once someone is found.
            self.form.add(a["data-field-name"], "person").boxes -= 1
        elif tag == "input" and a.get("name"):
            self._input(a)
        elif tag == "button" and a.get("name"):
            self.form.add(a["name"], "button").options.append(a.get("value", ""))
        elif tag == "select" and a.get("name"):
            self.select = self.form.add(a["name"], "select")
            self.select.multiple = "multiple" in a
        elif tag == "option" and self.select is not None:
            self.option_value = a.get("value")
            self.option_text = ""
            if "selected" in a:
                self.select.values.append(a.get("value", ""))
        elif tag == "textarea" and a.get("name"):
            self.textarea = self.form.add(a["name"], "textarea")
            self.textarea.values.append("")
            self._limits(self.textarea, a)

    def _input(self, a: dict[str, str]) -> None:
        kind = a.get("type", "text").lower()
        if kind in {"image", "reset"}:
            return
        found = self.form.add(a["name"], kind)
        if kind in {"radio", "checkbox"}:
            found.options.append(a.get("value", "on"))
            if "checked" in a:
                found.values.append(a.get("value", "on"))
        elif kind == "submit":
            found.options.append(a.get("value", ""))
        else:
            found.values.append(a.get("value", ""))
        self._limits(found, a)

    @staticmethod
    def _limits(found: Field, a: dict[str, str]) -> None:
        if a.get("maxlength", "").isdigit():
            found.maxlength = int(a["maxlength"])
        if a.get("inputmode") == "numeric" or a.get("type") == "number" or "date-input" in a.get("class", ""):
            found.numeric = True

    def handle_data(self, data: str) -> None:
        if self.option_value is None and self.select is not None:
            self.option_text += data
        if self.textarea is not None:
            self.textarea.values[-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.form = None
        elif tag == "option" and self.select is not None:
            self.select.options.append(self.option_value if self.option_value is not None else self.option_text)
            self.option_value = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def post_forms(html: str, page_path: str) -> list[Form]:
    """Every form on the page that posts, in page order."""
    reader = _Reader(page_path)
    reader.feed(html)
    reader.close()
    return reader.forms
