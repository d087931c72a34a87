"""Pre to post change, classified the way NHS Talking Therapies classify it.

Reliable improvement or deterioration is a change at least as large as the measure's reliable
change threshold (from its data file), in the measure's better or worse direction. Recovery is
moving from caseness before to below it after; reliable recovery is recovery with reliable
improvement. Measures without a caseness cut-off have no recovery (None).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from vigtrain.dcs.measures import Measure
from vigtrain.dcs.scoring import ScoringError


class Classification(enum.StrEnum):
    RELIABLE_IMPROVEMENT = "reliable_improvement"
    NO_RELIABLE_CHANGE = "no_reliable_change"
    RELIABLE_DETERIORATION = "reliable_deterioration"


CLASSIFICATION_LABELS = {
    Classification.RELIABLE_IMPROVEMENT: "Reliable improvement",
    Classification.NO_RELIABLE_CHANGE: "No reliable change",
    Classification.RELIABLE_DETERIORATION: "Reliable deterioration",
}


@dataclass(frozen=True)
class Change:
    """`change` is post minus pre in the measure's own units (negative is better where higher is worse)."""

    pre: float
    post: float
    change: float
    classification: Classification
    recovery: bool | None
    reliable_recovery: bool | None
    still_at_caseness: bool | None

    @property
    def label(self) -> str:
        return CLASSIFICATION_LABELS[self.classification]


def _in_range(measure: Measure, value: float, field: str) -> None:
    if not measure.min_score <= value <= measure.max_score:
        raise ScoringError(
            f"A {measure.code} score must be from {measure.min_score:g} to {measure.max_score:g}", field=field
        )


def classify(measure: Measure, pre: float, post: float) -> Change:
    """Classify the change from `pre` to `post`.

    The threshold is met when the change is greater than OR EQUAL TO it: NHS Talking Therapies state
    reliable improvement as a fall of 6 or more on PHQ-9 and 4 or more on GAD-7, the smallest whole
    change beyond Jacobson and Truax's 1.96 standard errors, so data files give "the smallest change
    that counts" and `>=` applies it. Where a threshold is not a whole number (2.87 on SWEMWBS, 8.59 on
    WEMWBS) no two scores the measure can produce differ by exactly that much, so `>=` and `>` agree.
    """
    _in_range(measure, pre, "pre")
    _in_range(measure, post, "post")
    # Scores carry at most two decimals; rounding keeps 26.02 - 23.15 from landing a hair under 2.87.
    change = round(post - pre, 6)
    better = change if measure.higher_is_better else -change
    if better >= measure.reliable_change:
        classification = Classification.RELIABLE_IMPROVEMENT
    elif -better >= measure.reliable_change:
        classification = Classification.RELIABLE_DETERIORATION
    else:
        classification = Classification.NO_RELIABLE_CHANGE
    if measure.caseness is None:
        recovery = reliable_recovery = still_at_caseness = None
    else:
        still_at_caseness = measure.caseness.is_case(post)
        recovery = measure.caseness.is_case(pre) and not still_at_caseness
        reliable_recovery = recovery and classification is Classification.RELIABLE_IMPROVEMENT
    return Change(
        pre=pre,
        post=post,
        change=round(change, 4),
        classification=classification,
        recovery=recovery,
        reliable_recovery=reliable_recovery,
        still_at_caseness=still_at_caseness,
    )
