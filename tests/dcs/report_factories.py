"""Report sums and reports built in memory, case by case, for the report and disclosure tests."""

from __future__ import annotations

from vigtrain.dcs.measures import Measure, get_measure
from vigtrain.dcs.outcomes import Classification, classify
from vigtrain.dcs.reports import Breakdown, Filters, Group, Level, Report, Scope, Sums

PHQ9 = get_measure("PHQ-9")
WEMWBS = get_measure("WEMWBS")


def sums_of(
    measure: Measure,
    pairs: list[tuple[float, float]],
    unpaired: int = 0,
    closed_paired: int = 0,
    closed_unpaired: int = 0,
) -> Sums:
    """What the SQL aggregate returns for these cases, worked out one case at a time.

    The first `closed_paired` of the pairs and `closed_unpaired` of the unpaired cases are closed.
    """
    assert closed_paired <= len(pairs) and closed_unpaired <= unpaired
    changes = [classify(measure, pre, post) for pre, post in pairs]
    return Sums(
        cases=len(pairs) + unpaired,
        paired=len(pairs),
        pre=sum(pre for pre, _ in pairs),
        pre_squared=sum(pre * pre for pre, _ in pairs),
        post=sum(post for _, post in pairs),
        post_squared=sum(post * post for _, post in pairs),
        pre_post=sum(pre * post for pre, post in pairs),
        improved=sum(c.classification is Classification.RELIABLE_IMPROVEMENT for c in changes),
        unchanged=sum(c.classification is Classification.NO_RELIABLE_CHANGE for c in changes),
        deteriorated=sum(c.classification is Classification.RELIABLE_DETERIORATION for c in changes),
        at_caseness=sum(bool(measure.is_case(pre)) for pre, _ in pairs),
        recovered=sum(bool(c.recovery) for c in changes),
        reliably_recovered=sum(bool(c.reliable_recovery) for c in changes),
        closed=closed_paired + closed_unpaired,
        closed_paired=closed_paired,
    )


def make_report(
    level: Level,
    groups: list[tuple[str, Sums]],
    measure: Measure = PHQ9,
    breakdown: Breakdown = Breakdown.POPULATION,
) -> Report:
    scope = Scope(level, practitioner_id=1) if level is Level.PRACTITIONER else Scope(level)
    made = [Group(label, label, sums) for label, sums in groups]
    return Report(scope, Filters(measure, breakdown), made, sum((g.sums for g in made), Sums()))
