"""A new version of a measure's data file never reclassifies results already given."""

from __future__ import annotations

import shutil
from datetime import date

import pytest

from tests.factories import make_case, make_user
from vigtrain.accounts.models import Role
from vigtrain.casework.services import Consents
from vigtrain.dcs import measures, services
from vigtrain.dcs.measures import load_library, load_measures
from vigtrain.dcs.models import Timepoint
from vigtrain.extensions import db

START = date(2026, 1, 5)
# PHQ-9 totals 18 then 12: a fall of 6, reliable under version 1 (6 points), not under the test's version 2.
PRE = dict(zip("123456789", [2, 2, 2, 2, 2, 2, 2, 2, 2], strict=True))
POST = dict(zip("123456789", [2, 2, 2, 1, 1, 1, 1, 1, 1], strict=True))


@pytest.fixture
def stricter_phq9(tmp_path, monkeypatch):
    """Install a PHQ-9 version 2 whose reliable change threshold is 10 points."""
    for path in measures.DATA_DIR.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    text = (measures.DATA_DIR / "phq-9.toml").read_text(encoding="utf-8")
    assert 'version = "1"' in text and "\npoints = 6\n" in text
    revised = text.replace('version = "1"', 'version = "2"', 1).replace("\npoints = 6\n", "\npoints = 10\n", 1)
    (tmp_path / "phq-9-v2.toml").write_text(revised, encoding="utf-8")

    def install():
        newest = load_library(tmp_path)
        every = {(measure.code, measure.version): measure for measure in load_measures(tmp_path)}
        monkeypatch.setattr(measures, "library", lambda: newest)
        monkeypatch.setattr(services, "library", lambda: newest)
        monkeypatch.setattr(measures, "_all_versions", lambda: every)

    return install


def _record(practitioner, case, timepoint, day, answers):
    return services.record_administration(practitioner, case, "PHQ-9", timepoint, day, answers, date(2026, 3, 2))


def test_results_keep_the_classification_of_the_version_they_were_scored_with(app, clock, stricter_phq9):
    practitioner = make_user("pat@example.org", roles=(Role.PRACTITIONER,))
    consents = Consents(filming=START, supervision=START, dcs=START)
    old = make_case(practitioner, started_on=START, consents=consents)
    _record(practitioner, old, Timepoint.PRE, date(2026, 1, 6), PRE)
    _record(practitioner, old, Timepoint.POST, date(2026, 2, 20), POST)
    db.session.commit()
    (before,) = services.case_feedback(old)
    assert before.change.classification.value == "reliable_improvement"

    stricter_phq9()
    new = make_case(practitioner, started_on=START, consents=consents)
    pre = _record(practitioner, new, Timepoint.PRE, date(2026, 1, 6), PRE)
    _record(practitioner, new, Timepoint.POST, date(2026, 2, 20), POST)
    # A post added to the old case after the change is scored on version 2 but judged by its baseline.
    services.refresh_outcome(old, measures.get_measure("PHQ-9"))
    db.session.commit()

    assert pre.measure_version == "2"
    (old_feedback,) = services.case_feedback(old)
    (new_feedback,) = services.case_feedback(new)
    assert old_feedback.measure.version == "1" and new_feedback.measure.version == "2"
    assert old_feedback.change.classification.value == "reliable_improvement"
    assert new_feedback.change.classification.value == "no_reliable_change"
    rows = {row.case_id: row.classification for row in db.session.scalars(db.select(services.CaseOutcome))}
    assert rows == {old.id: "reliable_improvement", new.id: "no_reliable_change"}
