"""Disclosure control for DCS figures shown beyond a practitioner's own caseload.

NHS Digital's rule (DESIGN.md, "Anonymity rules"), applied to every report level above the
practitioner's own and to every CSV made from one:

- a count of 1 to 7 is shown as ``*``; any other count is rounded to the nearest 5 (0 stays 0);
- a mean or percentage over fewer than 8 cases is shown as ``*``;
- a total must not reveal a withheld cell.

Why the last rule needs more than rounding. NHS Digital rounds totals from the unrounded figures,
so subtracting the other cells from the total gives a withheld cell only to within the rounding.
That range can still close on one value: cells of 1, 8 and 8 publish as ``*``, 10 and 10 with a
total of 15, and 15 + 2 - (10 - 2) - (10 - 2) = 1, so the ``*`` must be exactly 1. Percentages
worked out from unrounded figures can also give away a count exactly. So :func:`breakdown` assumes
the worst case, an intruder who knows every published count *exactly* and who knows this rule,
including that a withheld count is either 1 to 7 or a larger one withheld to protect another, and
that a larger one is never bigger than the smallest count still shown. Against that intruder:

- one withheld cell is recovered by subtraction, so a second one is always withheld with it
  (the smallest non-zero cell still shown: the least information lost);
- two or more withheld cells give only their sum S. With L the largest a withheld cell can be (the
  smallest non-zero count still shown, or unbounded if none is), each lies between max(1, S - (m - 1) L) and
  min(L, S - (m - 1)), m being how many are withheld. That leaves at least two values unless S = m,
  every withheld cell being 1 (S = m L cannot happen: L is at least 8 and one withheld cell is at
  most 7). So while S = m another cell is withheld; if none is left, the total is withheld instead.

Rounding stays as the second layer it is in NHS Digital's rule: it blurs differences between pages
(another filter, another period), which secondary suppression inside one table cannot reach. A row
whose count is withheld shows no other figure either, since a percentage could give the count back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

SUPPRESSED = "*"
SMALLEST_SHOWN = 8  # counts of 1 to 7 are withheld; means and percentages need at least 8 cases
ROUNDING_BASE = 5


def round_count(value: int) -> int:
    """To the nearest 5; counts are whole numbers, so there is never a tie to break."""
    return ROUNDING_BASE * ((value + ROUNDING_BASE // 2) // ROUNDING_BASE)


def is_small(value: int) -> bool:
    """A count NHS Digital's rule withholds: 1 to 7 (0 is shown)."""
    return 1 <= value < SMALLEST_SHOWN


def count(value: int) -> int | str:
    """One count as published: ``*`` for 1 to 7, otherwise rounded to the nearest 5."""
    if value < 0:
        raise ValueError("a count cannot be negative")
    return SUPPRESSED if is_small(value) else round_count(value)


def statistic(value: float | None, base: int) -> float | str | None:
    """A mean or percentage over `base` cases: ``*`` over 1 to 7 cases, None when there is nothing to show.

    Under 8 cases even "nothing to show" (say, no effect size because every score was the same) is
    shown as ``*``: that too would say something about the few cases behind it.
    """
    if base <= 0:
        return None
    return SUPPRESSED if base < SMALLEST_SHOWN else value


@dataclass(frozen=True)
class Breakdown:
    """Counts that add up to a total, as published.

    `withheld[i]` is True where cell i is shown as ``*`` (first because it is small, or second to
    protect a small one); `total_withheld` when the total had to go too. Other figures on a withheld
    row must be withheld with it.
    """

    cells: tuple[int | str, ...]
    total: int | str
    withheld: tuple[bool, ...]
    total_withheld: bool


def breakdown(values: Sequence[int]) -> Breakdown:
    """Publish counts that partition a total (each case in exactly one cell), with secondary suppression."""
    if any(value < 0 for value in values):
        raise ValueError("a count cannot be negative")
    total = sum(values)
    withheld = [is_small(value) for value in values]
    total_withheld = is_small(total)
    while not total_withheld:
        hidden = [index for index, flag in enumerate(withheld) if flag]
        if not hidden or (len(hidden) >= 2 and sum(values[index] for index in hidden) > len(hidden)):
            break
        shown = [index for index, value in enumerate(values) if value > 0 and not withheld[index]]
        if not shown:
            total_withheld = True
            break
        withheld[min(shown, key=lambda index: (values[index], index))] = True
    cells = tuple(SUPPRESSED if flag else round_count(value) for value, flag in zip(values, withheld, strict=True))
    return Breakdown(
        cells=cells,
        total=SUPPRESSED if total_withheld else round_count(total),
        withheld=tuple(withheld),
        total_withheld=total_withheld,
    )
