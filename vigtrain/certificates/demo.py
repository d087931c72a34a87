"""Demo certificates, one of every status, with fixed numbers the README lists for trying verification.

Made through the same services the pages use. Accredited practitioners trained before vigtrain
get their completed training record as AVIGuk holds it (every stage done, dates counted back from
today), so each certificate has the enrolment it was earned on, which carries on as their
continuing record. One practitioner (Nadia Hussain) is inside her renewal window with one session
of continuing supervision waiting for her supervisor: confirm it, and she can ask to renew.

Each step runs `as_of` its day in the story: a history from before vigtrain is entered when AVIGuk
started using it (or on ratification, if later), a certificate is issued a week or so after it
was earned, and renewals, reissues, expiry and revocation each happen on their own day.

One accredited practitioner (Dev Malhotra) made a training transcript, also with a fixed number
(`TRANSCRIPT`), through the same service as the page that makes one.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from vigtrain import audit, codes
from vigtrain.accounts.models import User
from vigtrain.certificates import services
from vigtrain.certificates.models import NUMBER_PREFIX, TRANSCRIPT_PREFIX, Certificate
from vigtrain.certificates.register import set_register_opt_in
from vigtrain.certificates.transcripts import create_transcript
from vigtrain.dates import UK, add_months, as_of, today, uk_date
from vigtrain.extensions import db
from vigtrain.pathways.models import (
    Enrolment,
    EnrolmentStatus,
    EnrolmentStatusChange,
    PathwayVersion,
    StageRecord,
    StageState,
    StageTransition,
)
from vigtrain.supervision.demo import demo_continuing_supervision


def demo_number(body: str, prefix: str = NUMBER_PREFIX) -> str:
    """A fixed number with a valid check character, e.g. DEM0001 → AV-DEM0-001D."""
    return codes.format_code(prefix, body + codes.check_symbol(body))


VALID = demo_number("DEM0001")  # Dev Malhotra, accredited on the 2015 pathway
SUPERSEDED_BY_RENEWAL = demo_number("DEM0002")  # Tom Hughes, before renewal
RENEWED = demo_number("DEM0003")  # Tom Hughes, the renewal
SUPERSEDED_BY_NEW_NAME = demo_number("DEM0004")  # issued to Lucy Grant
REISSUED = demo_number("DEM0005")  # Lucy Morgan, reissued after her change of name
EXPIRED = demo_number("DEM0006")  # Erin Walsh's VIG accreditation, not renewed
REVOKED = demo_number("DEM0007")  # Mark Bennett's, withdrawn at his request
STAGE = demo_number("DEM0008")  # Jo Williams, Stage 1 completed
RENEWAL_DUE = demo_number("DEM0009")  # Nadia Hussain, inside its renewal window
TRANSCRIPT = demo_number("DEM0001", TRANSCRIPT_PREFIX)  # Dev Malhotra's training transcript
# Days before today that Dev made his transcript (for a new employer), long after his accreditation.
TRANSCRIPT_DAYS_AGO = 90

# Stage completions earned longer ago than this have been issued; later ones wait in the queue.
ISSUED_BEFORE_DAYS = 270

# Numbers for README: (number, what a verifier sees).
DEMO_NUMBERS = [
    (VALID, "valid (Dev Malhotra, Accredited VIG Practitioner)"),
    (STAGE, "valid stage-completion certificate (Jo Williams, Stage 1)"),
    (EXPIRED, "expired (Erin Walsh)"),
    (REVOKED, "revoked, with the reason (Mark Bennett)"),
    (SUPERSEDED_BY_RENEWAL, f"superseded by its renewal {RENEWED} (Tom Hughes)"),
    (SUPERSEDED_BY_NEW_NAME, f"superseded after a change of name by {REISSUED} (Lucy Grant, now Lucy Morgan)"),
    (RENEWAL_DUE, "valid, renewal due (Nadia Hussain, Accredited VIG Practitioner)"),
]


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment on `day`, UK time: when a demo step happened in its story."""
    return datetime.combine(day, time(hour, minute), UK)


class _Issuer:
    """Issues the demo certificates on their historical dates, with fixed numbers."""

    def __init__(self, admin: User, people: dict[str, User], live: date) -> None:
        self.admin, self.people, self.today, self.live = admin, people, today(), live
        self.versions = {(v.code, v.version): v for v in db.session.scalars(select(PathwayVersion))}
        self.stage_numbers = (demo_number(f"DEMS{index:03d}") for index in range(1, 1000))

    def days_ago(self, days: int) -> date:
        return self.today - timedelta(days=days)

    def person(self, name: str) -> User:
        return self.people[f"{name}@example.org"]

    def completed_training(
        self, trainee: User, supervisor: User, started: date, ratified: date, number: str
    ) -> tuple[Enrolment, Certificate]:
        """A VIG Practitioner (2015) enrolment finished outside vigtrain, every stage done, ratified,
        and its certificates (the accreditation numbered `number`): entered when AVIGuk started
        using vigtrain, or a few days after the ratification if that came later."""
        version = self.versions[("vig-practitioner", "2015.1")]
        stages = version.definition.stages
        step = (ratified - started) / len(stages)
        # Each stage was accredited by whichever of Helen and Daniel was not the personal supervisor.
        helen, daniel = self.person("helen.price"), self.person("daniel.okafor")
        accreditor = daniel if supervisor.id == helen.id else helen
        enrolment = Enrolment(
            trainee=trainee,
            pathway_version=version,
            supervisor=supervisor,
            service=trainee.service,
            start_date=started,
            status=EnrolmentStatus.COMPLETED,
            completed_on=ratified,
        )
        for position, stage in enumerate(stages):
            ends = started + step * (position + 1) if position < len(stages) - 1 else ratified
            final = position == len(stages) - 1
            # Signed off, then accredited at the meeting, then (the final stage) ratified two weeks on.
            meeting = ends - timedelta(days=14) if final else ends
            done = at(meeting, 16, 0)
            record = StageRecord(
                stage_code=stage.code,
                position=position,
                is_final=final,
                state=StageState.RATIFIED
                if final
                else StageState.ACCREDITED
                if stage.has_meeting
                else StageState.COMPLETE,
                started_on=started + step * position,
                ended_on=ends,
                signed_off_by_id=supervisor.id,
                signed_off_at=at(meeting - timedelta(days=24), 11, 15) if stage.has_meeting else done,
            )
            if stage.has_meeting:
                record.meeting_date, record.accredited_at = meeting, done
                record.accrediting_supervisor_id = record.accredited_by_id = accreditor.id
            record.state_since = done
            if final:
                record.ratified_by_id, record.ratified_at = self.admin.id, at(ends, 11, 0)
                record.state_since = record.ratified_at
            record.submitted_at = at(uk_date(record.signed_off_at) - timedelta(days=4), 20, 10)
            record.transitions.extend(self._history(record, trainee, supervisor, accreditor))
            enrolment.stages.append(record)
        enrolment.status_changes.append(
            EnrolmentStatusChange(status=EnrolmentStatus.COMPLETED, occurred_at=at(ratified, 11, 0))
        )
        enrolment.last_activity_at = at(ratified, 11, 0)
        with as_of(at(max(self.live, ratified + timedelta(days=4)), 14, 0)):
            db.session.add(enrolment)
            db.session.flush()
            audit.record(
                self.admin,
                "enrolment.recorded_for_demo",
                enrolment,
                after=audit.snapshot(enrolment, "trainee_id", "pathway_version_id", "start_date", "status"),
            )
            for record in enrolment.stages[:-1]:
                services.issue_certificate(self.admin, record, record.ended_on, number=next(self.stage_numbers))
            final = enrolment.stages[-1]
            return enrolment, services.issue_certificate(self.admin, final, final.ended_on, number=number)

    def _history(self, record: StageRecord, trainee: User, supervisor: User, accreditor: User) -> list[StageTransition]:
        """The sign-off chain as AVIGuk's record dates it: started, submitted, signed off and, for a
        stage with a meeting, the accrediting supervisor asked, the stage accredited and (the final
        stage) ratified, so that the training-flow figures read these stages like any other."""
        # The first stage starts with the enrolment; each later one as the stage before it ends.
        moves = []
        if record.position:
            moves.append((StageState.NOT_STARTED, StageState.IN_PROGRESS, supervisor, at(record.started_on, 16, 0)))
        moves.append((StageState.IN_PROGRESS, StageState.SUBMITTED, trainee, record.submitted_at))
        if record.accredited_at is None:
            moves.append((StageState.SUBMITTED, StageState.COMPLETE, supervisor, record.signed_off_at))
        else:
            asked = at(record.meeting_date - timedelta(days=21), 9, 45)
            moves += [
                (StageState.SUBMITTED, StageState.SIGNED_OFF, supervisor, record.signed_off_at),
                (StageState.SIGNED_OFF, StageState.WITH_ACCREDITOR, supervisor, asked),
                (StageState.WITH_ACCREDITOR, StageState.ACCREDITED, accreditor, record.accredited_at),
            ]
        if record.ratified_at is not None:
            moves.append((StageState.ACCREDITED, StageState.RATIFIED, self.admin, record.ratified_at))
        return [
            StageTransition(from_state=before, to_state=after, actor_id=actor.id, occurred_at=moment)
            for before, after, actor, moment in moves
        ]

    def issue(self, record: StageRecord, earned: datetime, number: str) -> Certificate:
        """Issue the certificate a stage earned in vigtrain, a week after it was earned."""
        issued_on = earned.astimezone(UK).date() + timedelta(days=7)
        with as_of(at(issued_on, 10, 30)):
            return services.issue_certificate(self.admin, record, issued_on, number=number)


def demo_certificates(people: dict[str, User], live: date) -> None:
    """Certificates of every status for the demo people (after the training demo); `live` is the day
    AVIGuk started using vigtrain, when histories from before it were entered. Flushes."""
    admin = people["admin@example.org"]
    issuer = _Issuer(admin, people, live)
    helen = issuer.person("helen.price")

    # Dev: ratified on the 2015 pathway by the training demo.
    dev = issuer.person("dev.malhotra")
    dev_final = db.session.scalar(
        select(StageRecord)
        .join(StageRecord.enrolment)
        .where(Enrolment.trainee_id == dev.id, StageRecord.is_final.is_(True), StageRecord.state == StageState.RATIFIED)
    )
    issuer.issue(dev_final, dev_final.ratified_at, VALID)

    # Jo: Stage 1 accredited at its transition meeting.
    jo = issuer.person("jo.williams")
    jo_stage = db.session.scalar(
        select(StageRecord)
        .join(StageRecord.enrolment)
        .where(Enrolment.trainee_id == jo.id, StageRecord.stage_code == "stage-1")
    )
    issuer.issue(jo_stage, jo_stage.accredited_at, STAGE)

    # Stage completions earned more than nine months ago were issued a week later; the queue holds the rest.
    for record in db.session.scalars(services.awaiting_issue_query()).all():
        earned = record.accredited_at or record.signed_off_at
        if earned is not None and earned.astimezone(UK).date() < issuer.days_ago(ISSUED_BEFORE_DAYS):
            issuer.issue(record, earned, next(issuer.stage_numbers))

    # Tom: accredited nearly three years ago, renewed six weeks ago on his confirmed continuing supervision.
    tom = issuer.person("tom.hughes")
    accredited, first = issuer.completed_training(
        tom, helen, issuer.days_ago(1600), issuer.days_ago(1035), SUPERSEDED_BY_RENEWAL
    )
    held = [
        (issuer.days_ago(days), minutes) for days, minutes in ((945, 90), (705, 90), (475, 60), (235, 90), (55, 60))
    ]
    demo_continuing_supervision(accredited, helen, held)
    renewed_on = issuer.days_ago(40)
    with as_of(at(renewed_on, 11, 20)):
        services.renew_certificate(
            admin,
            first,
            renewed_on,
            "Continuing supervision confirmed in vigtrain since his accreditation, and in his supervisor training.",
            number=RENEWED,
        )

    # Nadia: accredited 32 months ago, so renewal is open; her last session has waited two weeks for
    # Daniel to confirm it (he is reminded, the administrator told), and then her confirmed hours
    # meet the rule and she can ask AVIGuk to renew.
    nadia = issuer.person("nadia.hussain")
    daniel = issuer.person("daniel.okafor")
    ratified = add_months(issuer.today, -32)
    accredited, _ = issuer.completed_training(nadia, daniel, ratified - timedelta(days=560), ratified, RENEWAL_DUE)
    held = [(ratified + timedelta(days=days), minutes) for days, minutes in ((70, 60), (260, 90), (480, 90), (700, 60))]
    demo_continuing_supervision(accredited, daniel, [*held, (issuer.days_ago(15), 60)], waiting=1)

    # Lucy: accredited as Lucy Grant; reissued in her new name.
    lucy = issuer.person("lucy.morgan")
    lucy.display_name = "Lucy Grant"
    _, grant = issuer.completed_training(
        lucy, helen, issuer.days_ago(1150), issuer.days_ago(600), SUPERSEDED_BY_NEW_NAME
    )
    lucy.display_name = "Lucy Morgan"
    reissued_on = issuer.days_ago(200)
    with as_of(at(reissued_on, 15, 40)):
        services.reissue_for_name_change(admin, grant, reissued_on, number=REISSUED)

    # Erin: a VIG accreditation she did not renew (she is now training in VERP); it expired that night.
    erin = issuer.person("erin.walsh")
    _, expired = issuer.completed_training(
        erin, issuer.person("ruth.evans"), issuer.days_ago(2200), issuer.days_ago(1650), EXPIRED
    )
    lapsed_on = expired.valid_until + timedelta(days=1)
    with as_of(at(lapsed_on, 2, 0)):
        services.expire_certificates(lapsed_on)

    # Mark: withdrew from VIG practice when he became a service lead.
    mark = issuer.person("mark.bennett")
    _, revoked = issuer.completed_training(
        mark, issuer.person("daniel.okafor"), issuer.days_ago(1500), issuer.days_ago(950), REVOKED
    )
    with as_of(at(issuer.days_ago(420), 12, 10)):
        services.revoke_certificate(
            admin, revoked, "Withdrawn at the holder's request: he no longer practises VIG and now leads a service."
        )

    # Listed in the public register by their own choice, soon after their certificates were issued.
    for person, day in ((dev, dev_final.ended_on + timedelta(days=9)), (tom, live + timedelta(days=2))):
        with as_of(at(day, 19, 0)):
            set_register_opt_in(person, person, True)
    with as_of(at(reissued_on + timedelta(days=1), 19, 0)):
        set_register_opt_in(lucy, lucy, True)
    # Dev made a signed transcript of his training for a new employer, from Your certificates.
    made_on = issuer.days_ago(TRANSCRIPT_DAYS_AGO)
    with as_of(at(made_on, 18, 30)):
        create_transcript(dev, dev, made_on, number=TRANSCRIPT)
    # Anything else past its last valid day today (the nightly job would have caught it).
    services.expire_certificates(issuer.today)
    db.session.flush()
