"""What casework tells and asks the domain built on it, so that it never imports that domain.

Supervision sits above casework too: a session names the cycles whose film it reviewed, so a
cycle's deletion is told to it, and a case's page shows the supervision of its film.

Outcome data (dcs) sits above casework: its rows point at cases. Yet a case's own rules depend on
those rows (its start may not move past its first measure), its edits must reach the copies dcs
keeps, and its page shows them. So casework sends these signals and dcs answers; dcs connects its
receivers when it is imported, which the app factory does for every domain.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from blinker import NamedSignal, Namespace

if TYPE_CHECKING:
    from vigtrain.casework.models import Case, Cycle

_signals = Namespace()

case_changed = _signals.signal("case-changed")
"""Sent with a case whose context or consents changed (flushed): whatever was copied from it follows."""

first_measure_on = _signals.signal("first-measure-on")
"""Asks the date of a case's first outcome measure, at any timepoint (None if it has none)."""

last_measure_on = _signals.signal("last-measure-on")
"""Asks the date of a case's last outcome measure other than a follow-up (None if it has none)."""

cycle_deleting = _signals.signal("cycle-deleting")
"""Sent with a cycle about to be deleted: whatever points at it lets go (supervision keeps the case named)."""

case_page = _signals.signal("case-page")
"""Asks what another domain shows on a case's page: each answer is a dict of values for the template."""


def require_receivers(signal: NamedSignal) -> None:
    """Fail closed: a rule that asks nobody would pass silently, so a signal with no receiver is an error."""
    if not signal.receivers:
        raise RuntimeError(f"nothing answers {signal.name!r}: the app factory imports the domains that do")


def answers(question: NamedSignal, case: Case) -> list[Any]:
    """Every receiver's answer about `case`, leaving out those with nothing to say (None)."""
    require_receivers(question)
    return [answer for _receiver, answer in question.send(case) if answer is not None]


def tell(news: NamedSignal, subject: Case | Cycle) -> None:
    """Tell the domains built on casework that `subject` changed or is going."""
    require_receivers(news)
    news.send(subject)
