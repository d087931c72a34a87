"""A supervisor's download holds no words a trainee wrote: a correction the trainee made to a session
they logged is the trainee's own text, however the session is shown."""

from __future__ import annotations

import io
import zipfile
from datetime import date

from tests.factories import make_enrolment, make_supervision, make_user
from vigtrain import transactions
from vigtrain.accounts.models import Role
from vigtrain.extensions import db
from vigtrain.privacy.subject_access import export_personal_data

OWEN_WORDS = "Owen's own words: I had the date wrong because of my sick leave."


def test_a_trainees_correction_reason_is_not_in_their_supervisors_download(app):
    admin = make_user("ada@example.org", roles=(Role.ADMINISTRATOR,), name="Ada Admin")
    sian = make_user("sian@example.org", roles=(Role.SUPERVISOR,), name="Sian Supervisor")
    owen = make_user("owen@example.org", roles=(Role.TRAINEE,), name="Owen Other")
    enrolment = make_enrolment(owen, sian, actor=admin)
    original = make_supervision(enrolment, sian, 1, date(2026, 2, 9))
    correction = make_supervision(enrolment, sian, 1.5, date(2026, 2, 10))
    correction.amends_id, correction.amendment_reason = original.id, OWEN_WORDS  # logged by Owen
    db.session.commit()

    archive = transactions.run(lambda: export_personal_data(sian, sian))

    with zipfile.ZipFile(io.BytesIO(archive.data)) as opened:
        texts = {name: opened.read(name).decode("utf-8") for name in opened.namelist()}
    assert [name for name, text in texts.items() if "sick leave" in text] == []
    assert "supervision_given.csv" in texts and str(correction.id) in texts["supervision_given.csv"]
