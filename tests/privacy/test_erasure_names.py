"""Erasure finds a person's name in others' text however it is written: with capitals outside ASCII too.

SQLite's lower() (and PostgreSQL's under the C locale) folds ASCII letters only, so a search that lowers
the name in Python but the text in SQL never matches a name such as "Łucja Żak" where it is written.
"""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select

from tests.factories import make_enrolment, make_supervision, make_user
from vigtrain import audit, transactions
from vigtrain.accounts.models import Role
from vigtrain.audit import AuditEvent
from vigtrain.extensions import db
from vigtrain.notifications.models import EmailState, Notification, NotificationKind
from vigtrain.privacy import erasure
from vigtrain.supervision.models import SupervisionSession

NAME = "Łucja Żak-Ødegård"
REASON = "Erasure request by letter of 1 March 2026; no retention duty applies."


def test_a_name_with_capitals_beyond_ascii_is_found_in_others_text_and_the_trail(app, clock):
    ada = make_user("ada@example.org", roles=(Role.ADMINISTRATOR,), name="Ada Admin")
    sian = make_user("sian@example.org", roles=(Role.SUPERVISOR,), name="Sian Supervisor")
    lucja = make_user("lucja@example.org", roles=(Role.TRAINEE,), name=NAME)
    owen = make_user("owen@example.org", roles=(Role.TRAINEE,), name="Owen Other")
    owen_session = make_supervision(make_enrolment(owen, sian, actor=ada), sian, 1, date(2026, 2, 10))
    owen_session.reflection = f"Watched {NAME}'s film with Sian."
    db.session.add(
        Notification(
            recipient_id=sian.id,
            kind=NotificationKind.STAGE_UPDATE,
            subject="stage:1",
            period="to-sign-off",
            title=f"{NAME} submitted Stage 1",
            body="Waiting for your sign-off.",
            email_state=EmailState.NONE,
        )
    )
    # An event about someone else's record that names her in its values.
    audit.record(sian, "supervision.updated", owen_session, after={"reflection": owen_session.reflection})
    db.session.commit()

    record = transactions.run(lambda: erasure.erase_person(ada, lucja, REASON))

    db.session.expire_all()
    label = erasure.pseudonym_label(record.pseudonym)
    reflection = db.session.scalar(
        select(SupervisionSession.reflection).where(SupervisionSession.id == owen_session.id)
    )
    assert reflection == f"Watched {label}'s film with Sian."
    assert db.session.scalar(select(Notification.title).where(Notification.recipient_id == sian.id)) == (
        f"{label} submitted Stage 1"
    )
    trail = [
        json.dumps([event.before, event.after], ensure_ascii=False) for event in db.session.scalars(select(AuditEvent))
    ]
    assert not [text for text in trail if NAME in text or NAME.lower() in text.lower()]
