"""The scoring engine: one function turns a measure's answers into its scores, flags and band.

Answers arrive as the 0-based position of the chosen option in the order the measure presents its
options (the same contract as the JSON API); the data file says what each position scores. Web
entry, the API, demo data and the bench all call `score`, so a figure can only be computed one way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from vigtrain.dcs.measures import Measure
from vigtrain.errors import DomainError


@dataclass(frozen=True)
class Flag:
    """A risk answer the practitioner must act on now; `item` is None for a subscale rule."""

    code: str
    message: str
    item: str | None


@dataclass(frozen=True)
class Score:
    """`total` is the reported score (SWEMWBS: metric); `raw` is the raw sum where it was converted."""

    total: float
    raw: float | None
    subscales: dict[str, float]
    band: str | None
    flags: list[Flag]
    prorated: bool
    answered: int


class ScoringError(DomainError):
    """The answers cannot be scored; `field` is the item number at fault, or "responses"."""


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _item_name(measure: Measure, number: str) -> str:
    return measure.items[int(number) - 1].label or f"item {number}"


def _names(measure: Measure, numbers: list[str]) -> str:
    """'item 4', 'items 4 and 7', or the items' labels ('Goal 1 and Goal 3') where they have them."""
    labels = [measure.items[int(number) - 1].label for number in numbers]
    if all(labels):
        return _join(labels)
    return f"item {numbers[0]}" if len(numbers) == 1 else f"items {_join(numbers)}"


def _positions(measure: Measure, responses: Mapping[str, int | None]) -> dict[str, int]:
    """The answered items' positions, after refusing unknown items and answers that are not options."""
    table = measure.score_table
    given: dict[str, int | None] = {}
    for key, value in responses.items():
        number = str(key) if isinstance(key, int) and not isinstance(key, bool) else key
        if not isinstance(number, str) or number not in table:
            raise ScoringError(f"{measure.code} has no item {key!r}", field="responses")
        given[number] = value
    answered: dict[str, int] = {}
    for number, value in given.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < len(table[number]):
            raise ScoringError(f"Choose one of the answers for {_item_name(measure, number)}", field=number)
        answered[number] = value
    return answered


def _check_missing(measure: Measure, missing: list[str], answered: int) -> None:
    rule = measure.missing
    if not missing:
        return
    field = missing[0] if len(missing) == 1 else "responses"
    unanswered = f"{_sentence(_names(measure, missing))} {'is' if len(missing) == 1 else 'are'} not answered"
    if rule.rule == "refuse":
        raise ScoringError(f"{unanswered}. {measure.code} can only be scored when every item is answered.", field)
    if rule.rule == "prorate":
        required = [number for number in missing if number in rule.required]
        if required:
            raise ScoringError(f"{_sentence(_names(measure, required))} must be answered", required[0])
        if len(missing) > rule.max_missing:
            raise ScoringError(
                f"{unanswered}. {measure.code} can be scored with at most {rule.max_missing} missing.", field
            )
    if rule.rule == "skip" and answered < rule.min_answered:
        choices = _names(measure, list(measure.item_numbers)).replace(" and ", " or ")
        raise ScoringError(f"Answer at least {rule.min_answered} of {choices}", field="responses")


def score(measure: Measure, responses: Mapping[str, int | None]) -> Score:
    """Score one administration, or raise ScoringError saying which answer is wrong or missing."""
    positions = _positions(measure, responses)
    table = measure.score_table
    items = {number: table[number][position] for number, position in positions.items()}
    missing = [number for number in measure.item_numbers if number not in items]
    _check_missing(measure, missing, len(items))

    mean = measure.scoring.method == "mean"
    total = sum(items.values())
    prorated = bool(missing) and measure.missing.rule == "prorate"
    if mean:
        total = round(total / len(items), 2)
    elif prorated:
        total = round(total / len(items) * len(table), 2)
    raw = None
    conversion = measure.conversion_table
    if conversion is not None:
        raw, total = float(total), conversion[total]

    subscales = {}
    for subscale in measure.subscales:
        scores = [items[number] for number in subscale.items if number in items]
        if len(scores) == len(subscale.items):
            subscales[subscale.code] = round(sum(scores) / len(scores), 2) if mean else float(sum(scores))

    flags = []
    for risk in measure.risks:
        value = items.get(risk.item) if risk.item is not None else subscales.get(risk.subscale)
        if value is not None and value >= risk.at_or_above:
            flags.append(Flag(risk.code, risk.message, risk.item))

    return Score(
        total=float(total),
        raw=raw,
        subscales=subscales,
        band=measure.band_for(total),
        flags=flags,
        prorated=prorated,
        answered=len(items),
    )
