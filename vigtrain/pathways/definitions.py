"""Pathway and principle definitions: TOML files validated into immutable objects.

Errors name the file, the stage and the field, so whoever edits a file can fix it.
"""

from __future__ import annotations

import enum
import hashlib
import json
import tomllib
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DATA_DIR = Path(__file__).parent / "data"
PRINCIPLES_FILE = DATA_DIR / "principles.toml"


class RequirementKind(enum.StrEnum):
    CYCLES = "cycles"
    NEW_CLIENTS = "new_clients"
    SUPERVISION_HOURS = "supervision_hours"
    SUPERVISION_SESSIONS = "supervision_sessions"
    SELF_ASSESSMENT = "self_assessment"
    SUPERVISOR_ASSESSMENT = "supervisor_assessment"
    REFLECTIVE_STATEMENT = "reflective_statement"
    COURSE_ATTENDANCE = "course_attendance"
    DCS_PAIRED_CASES = "dcs_paired_cases"
    # Cycles whose film a confirmed supervision session reviewed. No shipped pathway asks for it yet.
    CYCLES_REVIEWED = "cycles_reviewed"


# Kinds measured against a number; the others are done or not done.
COUNTED = {
    RequirementKind.CYCLES,
    RequirementKind.NEW_CLIENTS,
    RequirementKind.SUPERVISION_HOURS,
    RequirementKind.SUPERVISION_SESSIONS,
    RequirementKind.COURSE_ATTENDANCE,
    RequirementKind.DCS_PAIRED_CASES,
    RequirementKind.CYCLES_REVIEWED,
}

DEFAULT_LABELS = {
    RequirementKind.CYCLES: "VIG cycles (filming and shared review)",
    RequirementKind.NEW_CLIENTS: "New clients in this stage",
    RequirementKind.SUPERVISION_HOURS: "Supervision confirmed by a supervisor",
    RequirementKind.SUPERVISION_SESSIONS: "Supervision sessions confirmed by a supervisor",
    RequirementKind.SELF_ASSESSMENT: "Self-assessment against the attunement principles",
    RequirementKind.SUPERVISOR_ASSESSMENT: "Supervisor's assessment against the attunement principles",
    RequirementKind.REFLECTIVE_STATEMENT: "Reflective statement",
    RequirementKind.COURSE_ATTENDANCE: "Course attendance",
    RequirementKind.DCS_PAIRED_CASES: "Cases with paired pre and post outcome data",
    RequirementKind.CYCLES_REVIEWED: "Cycles reviewed in supervision",
}

UNITS = {
    RequirementKind.CYCLES: ("cycle", "cycles"),
    RequirementKind.NEW_CLIENTS: ("client", "clients"),
    RequirementKind.SUPERVISION_HOURS: ("h", "h"),
    RequirementKind.SUPERVISION_SESSIONS: ("session", "sessions"),
    RequirementKind.COURSE_ATTENDANCE: ("session", "sessions"),
    RequirementKind.DCS_PAIRED_CASES: ("case", "cases"),
    RequirementKind.CYCLES_REVIEWED: ("cycle", "cycles"),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Requirement(_Strict):
    kind: RequirementKind
    target: Annotated[float, Field(gt=0, le=1000)] | None = None
    label: Annotated[str, Field(min_length=3, max_length=200)] | None = None
    enabled: bool = True

    @model_validator(mode="after")
    def _target_matches_kind(self) -> Requirement:
        if self.kind in COUNTED and self.target is None:
            raise ValueError(f"a '{self.kind}' requirement needs a target number")
        if self.kind not in COUNTED and self.target is not None:
            raise ValueError(f"a '{self.kind}' requirement is done or not done; remove 'target'")
        return self

    @property
    def title(self) -> str:
        return self.label or DEFAULT_LABELS[self.kind]

    @property
    def counted(self) -> bool:
        return self.kind in COUNTED


class Stage(_Strict):
    code: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
    name: Annotated[str, Field(min_length=2, max_length=120)]
    typical_months: Annotated[int, Field(ge=0, le=60)]
    ends_with: Literal["none", "transition", "accreditation"]
    meeting_name: Annotated[str, Field(max_length=200)] | None = None
    certificate: Literal["stage", "accreditation"] | None = None
    requirements: Annotated[tuple[Requirement, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _meeting_named(self) -> Stage:
        if self.ends_with != "none" and not self.meeting_name:
            raise ValueError("a stage that ends with a meeting needs 'meeting_name'")
        kinds = [requirement.kind for requirement in self.requirements]
        duplicates = {kind for kind in kinds if kinds.count(kind) > 1}
        if duplicates:
            raise ValueError(f"requirement kinds listed twice: {', '.join(sorted(duplicates))}")
        return self

    @property
    def active_requirements(self) -> tuple[Requirement, ...]:
        return tuple(requirement for requirement in self.requirements if requirement.enabled)

    @property
    def has_meeting(self) -> bool:
        return self.ends_with != "none"


class Pathway(_Strict):
    code: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,39}$")]
    version: Annotated[str, Field(pattern=r"^[0-9A-Za-z][0-9A-Za-z.-]{0,19}$")]
    name: Annotated[str, Field(min_length=2, max_length=120)]
    credential: Annotated[str, Field(min_length=2, max_length=120)]
    status: Literal["published", "provisional"]
    renewal_months: Annotated[int, Field(ge=1, le=240)]
    renewal_evidence: Annotated[str, Field(min_length=3, max_length=300)]
    # The part of `renewal_evidence` vigtrain checks: hours of confirmed supervision in a
    # certificate's period. None for a version whose files predate the number: renewal then needs
    # some confirmed supervision, and the administrator judges the rest from the text.
    renewal_supervision_hours: Annotated[float, Field(gt=0, le=1000)] | None = None
    source: Annotated[str, Field(min_length=3, max_length=500)]
    description: Annotated[str, Field(max_length=500)] = ""
    stages: Annotated[tuple[Stage, ...], Field(min_length=1, max_length=12)]

    @field_validator("stages")
    @classmethod
    def _stage_codes_unique(cls, stages: tuple[Stage, ...]) -> tuple[Stage, ...]:
        codes = [stage.code for stage in stages]
        if len(set(codes)) != len(codes):
            raise ValueError("stage codes must be unique within a pathway")
        return stages

    @model_validator(mode="after")
    def _ends_with_accreditation(self) -> Pathway:
        if self.stages[-1].ends_with != "accreditation":
            raise ValueError("the last stage must end with an accreditation meeting")
        return self

    def stage(self, code: str) -> Stage:
        for stage in self.stages:
            if stage.code == code:
                return stage
        raise KeyError(code)

    @property
    def final_stage(self) -> Stage:
        return self.stages[-1]

    @property
    def is_provisional(self) -> bool:
        return self.status == "provisional"

    def canonical_json(self) -> str:
        data = self.model_dump(mode="json")
        if self.renewal_supervision_hours is None:
            # Left out, not null: a version loaded before the field existed keeps its checksum.
            del data["renewal_supervision_hours"]
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    def checksum(self) -> str:
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()


class ScalePoint(_Strict):
    value: Annotated[int, Field(ge=1, le=10)]
    label: Annotated[str, Field(min_length=2, max_length=60)]


class Principle(_Strict):
    code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,29}$")]
    name: Annotated[str, Field(min_length=2, max_length=80)]
    descriptors: Annotated[
        tuple[Annotated[str, Field(min_length=3, max_length=200)], ...], Field(min_length=4, max_length=8)
    ]


class Principles(_Strict):
    version: int
    scale: Annotated[tuple[ScalePoint, ...], Field(min_length=3, max_length=10)]
    principles: Annotated[tuple[Principle, ...], Field(min_length=1)]

    def name(self, code: str) -> str:
        return next((p.name for p in self.principles if p.code == code), code)

    @property
    def codes(self) -> list[str]:
        return [principle.code for principle in self.principles]

    @property
    def scale_values(self) -> list[int]:
        return [point.value for point in self.scale]

    def scale_label(self, value: int) -> str:
        return next((point.label for point in self.scale if point.value == value), str(value))


class DefinitionError(ValueError):
    """A data file is malformed; the message names the file, the stage and the field."""


def _describe(raw: dict, location: tuple) -> str:
    parts: list[str] = []
    node = raw
    for step in location:
        if isinstance(step, int) and isinstance(node, list) and step < len(node):
            item = node[step]
            label = item.get("code") if isinstance(item, dict) else None
            kind = item.get("kind") if isinstance(item, dict) else None
            parts[-1] = f"{parts[-1].rstrip('s')} {step + 1}" + (f" ({label or kind})" if label or kind else "")
            node = item
        else:
            parts.append(str(step))
            node = node.get(step, {}) if isinstance(node, dict) else {}
    return ", ".join(parts) if parts else "(top level)"


def _validate(model: type[BaseModel], raw: dict, path: Path) -> BaseModel:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{path.name}: {_describe(raw, error['loc'])}: {message}")
        raise DefinitionError("\n".join(problems)) from None


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(f"{path.name}: not valid TOML: {exc}") from None


def load_pathway_file(path: Path) -> Pathway:
    return _validate(Pathway, _read_toml(path), path)


def load_pathway_files(directory: Path = DATA_DIR) -> list[Pathway]:
    """Every pathway file in `directory`; all problems in all files are reported together."""
    pathways, problems = [], []
    for path in sorted(directory.glob("*.toml")):
        if path.name == PRINCIPLES_FILE.name:
            continue
        try:
            pathways.append(load_pathway_file(path))
        except DefinitionError as exc:
            problems.append(str(exc))
    seen: dict[tuple[str, str], str] = {}
    for pathway in pathways:
        key = (pathway.code, pathway.version)
        if key in seen:
            problems.append(f"{pathway.code} version {pathway.version} is defined twice")
        seen[key] = pathway.code
    if problems:
        raise DefinitionError("\n".join(problems))
    return pathways


@cache
def principles() -> Principles:
    return _validate(Principles, _read_toml(PRINCIPLES_FILE), PRINCIPLES_FILE)


def pathway_from_json(data: str) -> Pathway:
    return Pathway.model_validate_json(data)
