"""Measure wording a service holds a licence for, entered by an administrator as data.

The data files hold no wording for measures whose licence forbids vigtrain to show it (EPDS, KPCS, PBQ,
SWEMWBS, WEMWBS): everyone sees item numbers. A service that holds a licence may have its wording
entered here, with the licence's reference; then that service's clients can answer the measure on their
own phone and see the wording. It is entered for one version of the measure's data file, so a new
version is not shown with wording checked against the old one. One wording is live per service and
measure; removing it keeps the row (and so the record of what was shown, on whose licence).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from vigtrain import audit
from vigtrain.accounts.models import User
from vigtrain.dates import utcnow
from vigtrain.dcs.measures import Measure, get_measure, library
from vigtrain.dcs.models import LicensedWording
from vigtrain.errors import DomainError, PermissionDenied
from vigtrain.extensions import db
from vigtrain.organisations.models import Service
from vigtrain.security import can_manage_licensed_wording

QUESTION_MAX = 500
ANSWER_MAX = 120  # what a data file's answer label may hold
STEM_MAX = 2000
REFERENCE_MAX = 300
WORDING_FIELDS = (
    "service_id",
    "measure_code",
    "measure_version",
    "item_texts",
    "answer_texts",
    "stem",
    "licence_reference",
    "removed_at",
)


REFERENCE_MISSING = "Enter the licence reference: who granted it, its number and when it was registered"


def question_missing(number: str) -> str:
    return f"Enter the wording of question {number}"


def answer_missing(number: str, position: int) -> str:
    return f"Enter answer {position + 1} of question {number} as printed"


def question_field(number: str) -> str:
    """The form field, and so the refusal's `field`, for an item's question."""
    return f"question_{number}"


def answer_field(number: str, position: int) -> str:
    """The form field for the printed answer at `position` (from 0) under an item."""
    return f"answer_{number}_{position}"


def printed_positions(measure: Measure, number: str) -> list[int]:
    """The answers under an item that the data file knows only by printed position ("First answer as printed").

    Measures like the EPDS print different answers under each question, and the data file, which may
    not hold them, records the position chosen. A client alone cannot answer "the second answer as
    printed", so the licensed wording gives those answers' words too.
    """
    return [
        position
        for position, option in enumerate(measure.options_for(number))
        if option.label.lower().endswith("as printed")
    ]


def needs_wording(measure: Measure) -> bool:
    return not measure.item_text_allowed


# --- reading ------------------------------------------------------------------------------------


def live_wordings(service_id: int | None) -> dict[str, LicensedWording]:
    """The service's live wording, by measure code (one query, for pages that ask about every measure)."""
    if service_id is None:
        return {}
    rows = db.session.scalars(
        select(LicensedWording).where(LicensedWording.service_id == service_id, LicensedWording.removed_at.is_(None))
    )
    return {row.measure_code: row for row in rows}


def applies(wording: LicensedWording | None, measure: Measure | None) -> bool:
    """Live wording entered for this very version of the measure's data file."""
    return (
        wording is not None and measure is not None and wording.is_live and wording.measure_version == measure.version
    )


def wording_for(service_id: int | None, measure: Measure) -> LicensedWording | None:
    """The service's live wording for this version of the measure, or None (then items are shown by number)."""
    if service_id is None or not needs_wording(measure):
        return None
    wording = db.session.scalar(
        select(LicensedWording).where(
            LicensedWording.service_id == service_id,
            LicensedWording.measure_code == measure.code,
            LicensedWording.removed_at.is_(None),
        )
    )
    return wording if applies(wording, measure) else None


def licensed_codes(service_id: int | None) -> frozenset[str]:
    """Codes of the measures the service's clients may see in words thanks to its licences."""
    return frozenset(code for code, row in live_wordings(service_id).items() if applies(row, get_measure(code)))


def client_stem(measure: Measure) -> str:
    """What a client reads above the questions when the licence holder entered no instructions of their own."""
    return f"Thinking about {measure.recall_period}, choose the answer to each question that fits you best."


def worded(measure: Measure, wording: LicensedWording) -> Measure:
    """The measure with the service's licensed wording in place of item numbers."""
    return measure.with_wording(wording.item_texts, wording.answer_texts, wording.stem or client_stem(measure))


def service_wordings(service: Service) -> list[LicensedWording]:
    """Every wording entered for the service, live first, then removed ones, newest first within each."""
    return list(
        db.session.scalars(
            select(LicensedWording)
            .where(LicensedWording.service_id == service.id)
            .order_by(
                LicensedWording.removed_at.is_not(None),
                LicensedWording.measure_code,
                LicensedWording.added_at.desc(),
                LicensedWording.id.desc(),
            )
        )
    )


def measures_needing_wording() -> list[Measure]:
    return [measure for measure in library().values() if needs_wording(measure)]


# --- changing -----------------------------------------------------------------------------------


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _measure(service: Service, code: object) -> Measure:
    measure = get_measure(code) if isinstance(code, str) else None
    if measure is None:
        raise DomainError("Select a measure from the list", field="measure")
    if not needs_wording(measure):
        raise DomainError(
            f"{measure.code}'s data file already shows its wording to everyone: there is nothing to add",
            field="measure",
        )
    if live_wordings(service.id).get(measure.code) is not None:
        raise DomainError(
            f"{service.name} already has wording for {measure.code}. Remove it first to enter it again",
            field="measure",
        )
    return measure


def _questions(measure: Measure, texts: Mapping[str, object]) -> dict[str, str]:
    questions = {}
    for number in measure.item_numbers:
        text = _text(texts.get(number))
        if not text:
            raise DomainError(question_missing(number), field=question_field(number))
        if len(text) > QUESTION_MAX:
            raise DomainError(
                f"Question {number} must be {QUESTION_MAX} characters or fewer", field=question_field(number)
            )
        questions[number] = text
    return questions


def _answers(measure: Measure, answers: Mapping[str, Mapping[int, object]]) -> dict[str, list[str]]:
    """Every answer label of items whose answers are printed: words given for those, the data file's for the rest."""
    worded_answers = {}
    for number in measure.item_numbers:
        positions = printed_positions(measure, number)
        if not positions:
            continue
        given = answers.get(number) or {}
        labels = [option.label for option in measure.options_for(number)]
        for position in positions:
            text = _text(given.get(position))
            field = answer_field(number, position)
            if not text:
                raise DomainError(answer_missing(number, position), field=field)
            if len(text) > ANSWER_MAX:
                raise DomainError(
                    f"Answer {position + 1} of question {number} must be {ANSWER_MAX} characters or fewer", field=field
                )
            labels[position] = text
        worded_answers[number] = labels
    return worded_answers


def add_wording(
    actor: User,
    service: Service,
    measure_code: str,
    texts: Mapping[str, object],
    stem: str | None,
    licence_reference: str | None,
    answers: Mapping[str, Mapping[int, object]] | None = None,
) -> LicensedWording:
    """Enter a measure's licensed wording for a service, for the newest version of its data file.

    `texts` is {item number: question}; `answers` {item number: {position: answer}}, needed only where
    the data file knows answers by printed position. Refused, naming the field, when anything is missing
    or too long, or the service already has live wording for the measure (remove that first).
    """
    if not can_manage_licensed_wording(actor):
        raise PermissionDenied("Only administrators enter licensed measure wording.")
    measure = _measure(service, measure_code)
    questions = _questions(measure, texts)
    worded_answers = _answers(measure, answers or {})
    stem_text = _text(stem) or None
    if stem_text is not None and len(stem_text) > STEM_MAX:
        raise DomainError(f"Instructions must be {STEM_MAX} characters or fewer", field="stem")
    reference = _text(licence_reference)
    if not reference:
        raise DomainError(
            REFERENCE_MISSING,
            field="licence_reference",
        )
    if len(reference) > REFERENCE_MAX:
        raise DomainError(f"Licence reference must be {REFERENCE_MAX} characters or fewer", field="licence_reference")
    wording = LicensedWording(
        service_id=service.id,
        measure_code=measure.code,
        measure_version=measure.version,
        item_texts=questions,
        answer_texts=worded_answers,
        stem=stem_text,
        licence_reference=reference,
        added_by_id=actor.id,
        added_at=utcnow(),
    )
    db.session.add(wording)
    db.session.flush()
    audit.record(actor, "licensed_wording.added", wording, after=audit.snapshot(wording, *WORDING_FIELDS))
    return wording


def remove_wording(actor: User, wording: LicensedWording) -> None:
    """Stop showing the wording: the service's clients see item numbers again, and links waiting for it lapse."""
    if not can_manage_licensed_wording(actor):
        raise PermissionDenied("Only administrators remove licensed measure wording.")
    if not wording.is_live:
        raise DomainError(f"This wording for {wording.measure_code} has already been removed.")
    before = audit.snapshot(wording, "removed_at")
    wording.removed_at = utcnow()
    wording.removed_by_id = actor.id
    db.session.flush()
    audit.record(actor, "licensed_wording.removed", wording, before=before, after=audit.snapshot(wording, "removed_at"))
