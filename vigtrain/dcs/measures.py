"""The outcome measure library: one versioned TOML file per measure, validated into immutable objects.

A measure's scoring facts (options and their scores, reverse-scored items, subscales, missing-item
rule, bands, caseness, reliable change, risk items) live in its data file with the source of every
figure, never in code. Errors name the file and the field, so whoever edits a file can fix it.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from functools import cache, cached_property
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, ValidationError, model_validator

DATA_DIR = Path(__file__).parent / "data"

Text = Annotated[str, Field(min_length=1, max_length=2000)]
Label = Annotated[str, Field(min_length=1, max_length=120)]
Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
ItemNumber = Annotated[str, Field(pattern=r"^[1-9][0-9]?$")]
Sources = Annotated[tuple[Key, ...], Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    key: Key
    citation: Text
    url: Annotated[str, Field(pattern=r"^https?://\S+$")] | None = None


class Option(_Strict):
    """One answer as the measure presents it, and the score it is worth."""

    label: Label
    score: StrictInt


class Item(_Strict):
    number: ItemNumber
    text: Text | None = None
    label: Label | None = None
    options: Annotated[tuple[Option, ...], Field(min_length=2, max_length=12)] | None = None

    @property
    def title(self) -> str:
        """What to show for the item: its wording where the licence allows, else its number."""
        return self.text or self.label or f"Item {self.number}"


class Subscale(_Strict):
    code: Key
    name: Label
    items: Annotated[tuple[ItemNumber, ...], Field(min_length=1)]
    high_at_or_above: StrictFloat | None = None
    sources: Sources

    def is_high(self, value: float) -> bool | None:
        """Whether a subscale score is at or above its published cut-off; None when it has none."""
        return None if self.high_at_or_above is None else value >= self.high_at_or_above


class Missing(_Strict):
    """What to do when items are left unanswered.

    `refuse`: every item must be answered. `prorate`: up to `max_missing` items may be missing (never
    one listed in `required`); the total is the mean answered item score times the number of items.
    `skip`: unanswered items are left out (Goal Based Outcomes rate 1 to 3 goals); at least
    `min_answered` must be answered.
    """

    rule: Literal["refuse", "prorate", "skip"]
    max_missing: Annotated[StrictInt, Field(ge=0)] = 0
    min_answered: Annotated[StrictInt, Field(ge=1)] = 1
    required: tuple[ItemNumber, ...] = ()
    note: Text
    sources: Sources

    @model_validator(mode="after")
    def _consistent(self) -> Missing:
        if self.rule == "refuse" and (self.max_missing or self.required):
            raise ValueError("'refuse' allows no missing items: remove 'max_missing' and 'required'")
        if self.rule == "prorate" and self.max_missing < 1:
            raise ValueError("'prorate' needs 'max_missing' of at least 1")
        if self.rule != "skip" and self.min_answered != 1:
            raise ValueError("'min_answered' only applies to the 'skip' rule")
        return self


class ConversionPoint(_Strict):
    raw: StrictInt
    converted: StrictFloat


class Conversion(_Strict):
    """A published raw-sum to reported-score table (SWEMWBS raw to metric)."""

    name: Label
    points: Annotated[tuple[ConversionPoint, ...], Field(min_length=2)]
    sources: Sources


class Scoring(_Strict):
    """How answers become the total; `sources` back the option scores, reversals and range."""

    method: Literal["sum", "mean"]
    min_score: StrictFloat
    max_score: StrictFloat
    conversion: Conversion | None = None
    sources: Sources


class Band(_Strict):
    label: Label
    min: StrictInt
    max: StrictInt


class Banding(_Strict):
    bands: Annotated[tuple[Band, ...], Field(min_length=1)]
    sources: Sources


class Caseness(_Strict):
    """The clinical cut-off: `at_or_above` for measures where higher is worse, `at_or_below` otherwise.

    `label` is the cut-off's short name, written to read in "the {label} cut-off".
    """

    threshold: StrictFloat
    direction: Literal["at_or_above", "at_or_below"]
    label: Annotated[str, Field(min_length=1, max_length=40)]
    note: Text
    sources: Sources

    def is_case(self, score: float) -> bool:
        return score >= self.threshold if self.direction == "at_or_above" else score <= self.threshold


class ReliableChange(_Strict):
    """The smallest change, in points of the reported total, that counts as reliable.

    `published`: the figure is given by the cited source. `derived`: computed from published figures
    (the note shows the sum). `provisional`: no source found yet; replace it when one is.
    """

    points: Annotated[StrictFloat, Field(gt=0)]
    status: Literal["published", "derived", "provisional"]
    note: Text
    sources: Sources


class RiskRule(_Strict):
    """An answer that must be acted on now: an item (or subscale) score at or above `at_or_above`."""

    code: Key
    item: ItemNumber | None = None
    subscale: Key | None = None
    at_or_above: StrictFloat
    message: Text
    sources: Sources

    @model_validator(mode="after")
    def _one_target(self) -> RiskRule:
        if (self.item is None) == (self.subscale is None):
            raise ValueError("a risk rule names either 'item' or 'subscale', not both or neither")
        return self


class Measure(_Strict):
    code: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$", max_length=16)]
    version: Annotated[str, Field(pattern=r"^[1-9][0-9]{0,3}$")]
    display_order: Annotated[StrictInt, Field(ge=1, le=999)]
    name: Label
    description: Text
    completed_by: Literal["parent", "practitioner_with_parent"]
    recall_period: Label
    stem: Text
    direction: Literal["higher_is_better", "higher_is_worse"]
    item_text_allowed: StrictBool
    licence: Text
    options: Annotated[tuple[Option, ...], Field(min_length=2, max_length=12)]
    items: Annotated[tuple[Item, ...], Field(min_length=1, max_length=60)]
    reverse_items: tuple[ItemNumber, ...] = ()
    scoring: Scoring
    missing: Missing
    subscales: tuple[Subscale, ...] = ()
    banding: Banding | None = None
    caseness: Caseness | None = None
    reliable_change_basis: Annotated[ReliableChange, Field(alias="reliable_change")]
    risks: tuple[RiskRule, ...] = ()
    notes: Text | None = None
    sources: Annotated[tuple[Source, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _consistent(self) -> Measure:
        numbers = [item.number for item in self.items]
        if numbers != [str(n) for n in range(1, len(numbers) + 1)]:
            raise ValueError(f"items: must be numbered 1 to {len(numbers)} in order; found {', '.join(numbers)}")
        if not self.item_text_allowed and any(item.text for item in self.items):
            raise ValueError("items: the licence does not allow item wording (item_text_allowed is false)")
        known = set(numbers)
        self._check_items_exist("reverse_items", self.reverse_items, known)
        self._check_items_exist("missing.required", self.missing.required, known)
        for item in self.items:
            if item.number in self.reverse_items and item.options is not None:
                raise ValueError(
                    f"items[{item.number}] ({item.number}).options: a reverse-scored item uses the measure's "
                    "options; give this item's options in printed order with their scores instead"
                )
        if self.missing.max_missing >= len(self.items) or self.missing.min_answered > len(self.items):
            raise ValueError("missing: must leave at least one item to answer")
        if self.missing.rule == "skip" and self.missing.max_missing != len(self.items) - self.missing.min_answered:
            raise ValueError("missing.max_missing: for 'skip' it must be the number of items minus min_answered")
        codes = [subscale.code for subscale in self.subscales]
        if len(set(codes)) != len(codes):
            raise ValueError("subscales: codes must be unique")
        for index, subscale in enumerate(self.subscales, start=1):
            self._check_items_exist(f"subscales[{index}] ({subscale.code}).items", subscale.items, known)
        self._check_range()
        self._check_bands()
        self._check_caseness()
        self._check_risks(known, set(codes))
        self._check_sources()
        return self

    @staticmethod
    def _check_items_exist(where: str, numbers: Iterable[str], known: set[str]) -> None:
        listed = list(numbers)
        unknown = [number for number in listed if number not in known]
        if unknown:
            raise ValueError(f"{where}: lists items that do not exist: {', '.join(unknown)}")
        if len(set(listed)) != len(listed):
            raise ValueError(f"{where}: lists an item twice")

    def _check_range(self) -> None:
        lows = [min(option.score for option in self.options_for(item.number)) for item in self.items]
        highs = [max(option.score for option in self.options_for(item.number)) for item in self.items]
        if self.scoring.method == "sum":
            low, high = float(sum(lows)), float(sum(highs))
        else:
            low, high = float(min(lows)), float(max(highs))
        conversion = self.scoring.conversion
        if conversion is not None:
            if self.scoring.method != "sum" or self.missing.rule != "refuse":
                raise ValueError("scoring.conversion: needs the 'sum' method and missing.rule 'refuse'")
            raws = [point.raw for point in conversion.points]
            if raws != list(range(int(low), int(high) + 1)):
                raise ValueError(f"scoring.conversion.points: need each raw score {low:g} to {high:g} in order")
            converted = [point.converted for point in conversion.points]
            if any(later <= earlier for earlier, later in pairwise(converted)):
                raise ValueError("scoring.conversion.points: converted scores must rise with the raw score")
            low, high = converted[0], converted[-1]
        if (self.scoring.min_score, self.scoring.max_score) != (low, high):
            raise ValueError(
                f"scoring.min_score/max_score: {self.scoring.min_score:g} to {self.scoring.max_score:g} does not match "
                f"the options, which give {low:g} to {high:g}"
            )

    def _check_bands(self) -> None:
        if self.banding is None:
            return
        if self.scoring.method != "sum" or self.scoring.conversion is not None:
            raise ValueError("banding: bands apply to summed totals only")
        bands = self.banding.bands
        if bands[0].min != self.min_score or bands[-1].max != self.max_score:
            raise ValueError(f"banding.bands: must run from {self.min_score:g} to {self.max_score:g}")
        for band in bands:
            if band.max < band.min:
                raise ValueError(f"banding.bands: '{band.label}' ends before it starts")
        for earlier, later in pairwise(bands):
            if later.min != earlier.max + 1:
                kind = "overlap" if later.min <= earlier.max else "leave a gap"
                raise ValueError(f"banding.bands: '{earlier.label}' and '{later.label}' {kind}")

    def _check_caseness(self) -> None:
        if self.caseness is None:
            return
        if not self.min_score <= self.caseness.threshold <= self.max_score:
            raise ValueError(f"caseness.threshold: must lie within {self.min_score:g} to {self.max_score:g}")
        expected = "at_or_above" if self.direction == "higher_is_worse" else "at_or_below"
        if self.caseness.direction != expected:
            raise ValueError(f"caseness.direction: must be '{expected}' where {self.direction.replace('_', ' ')}")

    def _check_risks(self, items: set[str], subscales: set[str]) -> None:
        codes = [risk.code for risk in self.risks]
        if len(set(codes)) != len(codes):
            raise ValueError("risks: codes must be unique")
        for index, risk in enumerate(self.risks, start=1):
            if risk.item is not None and risk.item not in items:
                raise ValueError(f"risks[{index}] ({risk.code}).item: item {risk.item} does not exist")
            if risk.subscale is not None and risk.subscale not in subscales:
                raise ValueError(f"risks[{index}] ({risk.code}).subscale: subscale {risk.subscale} does not exist")

    def _check_sources(self) -> None:
        keys = [source.key for source in self.sources]
        if len(set(keys)) != len(keys):
            raise ValueError("sources: keys must be unique")
        cited = {
            "scoring.sources": self.scoring.sources,
            "missing.sources": self.missing.sources,
            "reliable_change.sources": self.reliable_change_basis.sources,
            **{f"subscales[{i}] ({s.code}).sources": s.sources for i, s in enumerate(self.subscales, start=1)},
            **{f"risks[{i}] ({r.code}).sources": r.sources for i, r in enumerate(self.risks, start=1)},
        }
        if self.scoring.conversion is not None:
            cited["scoring.conversion.sources"] = self.scoring.conversion.sources
        if self.banding is not None:
            cited["banding.sources"] = self.banding.sources
        if self.caseness is not None:
            cited["caseness.sources"] = self.caseness.sources
        for where, used in cited.items():
            unknown = sorted(set(used) - set(keys))
            if unknown:
                raise ValueError(f"{where}: cites sources not listed in [[sources]]: {', '.join(unknown)}")
        uncited = [key for key in keys if not any(key in used for used in cited.values())]
        if uncited:
            raise ValueError(f"sources: listed but never cited: {', '.join(uncited)}")

    def options_for(self, item_number: str) -> tuple[Option, ...]:
        """The item's options in the order the measure presents them, each with its score for this item."""
        return self._item_options[item_number]

    @cached_property
    def _item_options(self) -> dict[str, tuple[Option, ...]]:
        low = min(option.score for option in self.options)
        high = max(option.score for option in self.options)
        reversed_options = tuple(Option(label=o.label, score=low + high - o.score) for o in self.options)
        return {
            item.number: item.options or (reversed_options if item.number in self.reverse_items else self.options)
            for item in self.items
        }

    @cached_property
    def score_table(self) -> dict[str, tuple[int, ...]]:
        """Item number to the score of each option position: built once, read on every administration."""
        return {number: tuple(option.score for option in options) for number, options in self._item_options.items()}

    @cached_property
    def conversion_table(self) -> dict[int, float] | None:
        """Raw sum to reported score, where the measure converts (SWEMWBS)."""
        conversion = self.scoring.conversion
        return None if conversion is None else {point.raw: point.converted for point in conversion.points}

    @cached_property
    def item_numbers(self) -> tuple[str, ...]:
        return tuple(item.number for item in self.items)

    @property
    def min_score(self) -> float:
        return self.scoring.min_score

    @property
    def max_score(self) -> float:
        return self.scoring.max_score

    @property
    def reliable_change(self) -> float:
        return self.reliable_change_basis.points

    @property
    def bands(self) -> tuple[Band, ...]:
        return self.banding.bands if self.banding else ()

    @property
    def risk_rules(self) -> tuple[RiskRule, ...]:
        return self.risks

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "higher_is_better"

    def is_case(self, score: float) -> bool | None:
        """Whether a reported total is at caseness; None when the measure has no clinical cut-off."""
        return None if self.caseness is None else self.caseness.is_case(score)

    def band_for(self, total: float) -> str | None:
        """The band a total falls in; a prorated total between two whole numbers takes the lower band."""
        label = None
        for band in self.bands:
            if total >= band.min:
                label = band.label
        return label

    def canonical_json(self) -> str:
        return json.dumps(self.model_dump(mode="json", by_alias=True), sort_keys=True, separators=(",", ":"))

    def checksum(self) -> str:
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()

    def with_wording(self, texts: Mapping[str, str], answers: Mapping[str, Sequence[str]], stem: str) -> Measure:
        """This measure as a service holding its licence shows it: questions (and printed answers) in words.

        Options' order and scores and every other fact stay the data file's. The copy is not validated
        again, since the data file itself still may not hold the wording; what was worked out from the
        original's items is forgotten, so the copy works it out from its own.
        """
        items = tuple(
            item.model_copy(update={"text": texts.get(item.number, item.text), **self._worded_options(item, answers)})
            for item in self.items
        )
        copy = self.model_copy(update={"items": items, "stem": stem})
        for name, value in vars(Measure).items():
            if isinstance(value, cached_property):
                copy.__dict__.pop(name, None)
        return copy

    def _worded_options(self, item: Item, answers: Mapping[str, Sequence[str]]) -> dict:
        labels = answers.get(item.number)
        if labels is None:
            return {}
        options = self.options_for(item.number)
        return {
            "options": tuple(
                option.model_copy(update={"label": label}) for option, label in zip(options, labels, strict=True)
            )
        }


class MeasureFileError(ValueError):
    """A measure file is malformed; the message names the file and the field."""


def _describe(raw: dict, location: tuple) -> str:
    parts: list[str] = []
    node = raw
    for step in location:
        if isinstance(step, int) and isinstance(node, list) and parts:
            item = node[step] if step < len(node) else None
            name = None
            if isinstance(item, dict):
                name = item.get("number") or item.get("code") or item.get("key") or item.get("label")
            parts[-1] = f"{parts[-1]}[{step + 1}]" + (f" ({name})" if name else "")
            node = item
        else:
            parts.append(str(step))
            node = node.get(step) if isinstance(node, dict) else None
    return ".".join(parts)


def load_measure_file(path: Path) -> Measure:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise MeasureFileError(f"{path.name}: not valid TOML: {exc}") from None
    try:
        return Measure.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            where = _describe(raw, error["loc"])
            problems.append(f"{path.name}: {where}: {message}" if where else f"{path.name}: {message}")
        raise MeasureFileError("\n".join(problems)) from None


def load_measures(directory: Path = DATA_DIR) -> list[Measure]:
    """Every version of every measure in `directory`; all problems in all files are reported together."""
    measures, problems = [], []
    for path in sorted(directory.glob("*.toml")):
        try:
            measures.append(load_measure_file(path))
        except MeasureFileError as exc:
            problems.append(str(exc))
    seen: set[tuple[str, str]] = set()
    for measure in measures:
        key = (measure.code, measure.version)
        if key in seen:
            problems.append(f"{measure.code} version {measure.version} is defined twice")
        seen.add(key)
    if problems:
        raise MeasureFileError("\n".join(problems))
    return measures


def load_library(directory: Path = DATA_DIR) -> dict[str, Measure]:
    """The newest version of each measure, keyed by code, in display order."""
    newest: dict[str, Measure] = {}
    for measure in load_measures(directory):
        current = newest.get(measure.code)
        if current is None or int(measure.version) > int(current.version):
            newest[measure.code] = measure
    ordered = sorted(newest.values(), key=lambda measure: (measure.display_order, measure.code))
    return {measure.code: measure for measure in ordered}


@cache
def _all_versions() -> dict[tuple[str, str], Measure]:
    return {(measure.code, measure.version): measure for measure in load_measures()}


@cache
def library() -> dict[str, Measure]:
    """The shipped measures (newest versions), loaded once per process."""
    return load_library()


def get_measure(code: str, version: str | None = None) -> Measure | None:
    """A measure by code (any case); a stored administration passes its version to get the one it used."""
    if not isinstance(code, str):
        return None
    code = code.strip().upper()
    if version is None:
        return library().get(code)
    return _all_versions().get((code, version))
