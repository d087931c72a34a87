"""Supervision linked to the film it reviewed: `supervision_review` rows replace the list of case codes.

A session named the cases whose film was reviewed as a JSON list of codes. Each now has one row per
cycle reviewed (session, case, cycle), so a case's page can list its supervision and each cycle can
say whether its film has been reviewed.

Existing lists are moved across without guessing: a code becomes a row for its case, linked to a
cycle only when exactly one cycle of that case had been filmed by the session's date (the only film
the session can have reviewed); otherwise the row names the case alone. Downgrading puts the codes
back in the list.

Revision ID: f1a3c5e7b9d2
Revises: e3b5d7f9a1c4
Create Date: 2026-12-07 05:10:00.000000

"""

from collections import defaultdict

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "f1a3c5e7b9d2"
down_revision = "e3b5d7f9a1c4"
branch_labels = None
depends_on = None

CHUNK = 500

sessions = sa.table(
    "supervision_session",
    sa.column("id", sa.Integer),
    sa.column("session_date", sa.Date),
    sa.column("case_codes", sa.JSON),
)
cases = sa.table("case", sa.column("id", sa.Integer), sa.column("code", sa.String))
cycles = sa.table(
    "cycle", sa.column("id", sa.Integer), sa.column("case_id", sa.Integer), sa.column("filmed_on", sa.Date)
)
reviews = sa.table(
    "supervision_review",
    sa.column("id", sa.Integer),
    sa.column("session_id", sa.Integer),
    sa.column("case_id", sa.Integer),
    sa.column("cycle_id", sa.Integer),
)


def _chunks(values: list) -> list[list]:
    return [values[start : start + CHUNK] for start in range(0, len(values), CHUNK)]


def upgrade():
    op.create_table(
        "supervision_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["supervision_session.id"],
            name=op.f("fk_supervision_review_session_id_supervision_session"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_supervision_review_case_id_case")),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycle.id"], name=op.f("fk_supervision_review_cycle_id_cycle"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_review")),
    )
    with op.batch_alter_table("supervision_review", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_supervision_review_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_supervision_review_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_supervision_review_cycle_id"), ["cycle_id"], unique=False)

    connection = op.get_bind()
    named = [
        (session_id, day, list(codes))
        for session_id, day, codes in connection.execute(
            sa.select(sessions.c.id, sessions.c.session_date, sessions.c.case_codes).order_by(sessions.c.id)
        )
        if codes
    ]
    codes = sorted({code for _, _, listed in named for code in listed})
    case_ids: dict[str, int] = {}
    for chunk in _chunks(codes):
        case_ids.update(
            connection.execute(sa.select(cases.c.code, cases.c.id).where(cases.c.code.in_(chunk))).tuples().all()
        )
    filmed: dict[int, list[tuple]] = defaultdict(list)
    for chunk in _chunks(sorted(set(case_ids.values()))):
        for cycle_id, case_id, filmed_on in connection.execute(
            sa.select(cycles.c.id, cycles.c.case_id, cycles.c.filmed_on).where(cycles.c.case_id.in_(chunk))
        ):
            filmed[case_id].append((cycle_id, filmed_on))
    rows = []
    for session_id, day, listed in named:
        for code in dict.fromkeys(listed):
            case_id = case_ids.get(code)
            if case_id is None:
                continue
            possible = [cycle_id for cycle_id, filmed_on in filmed[case_id] if filmed_on <= day]
            rows.append(
                {"session_id": session_id, "case_id": case_id, "cycle_id": possible[0] if len(possible) == 1 else None}
            )
    for chunk in _chunks(rows):
        connection.execute(reviews.insert(), chunk)

    with op.batch_alter_table("supervision_session", schema=None) as batch_op:
        batch_op.drop_column("case_codes")


def downgrade():
    with op.batch_alter_table("supervision_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_codes", sa.JSON(), nullable=True))
    connection = op.get_bind()
    listed: dict[int, list[str]] = defaultdict(list)
    for session_id, code in connection.execute(
        sa.select(reviews.c.session_id, cases.c.code)
        .join(cases, cases.c.id == reviews.c.case_id)
        .order_by(reviews.c.session_id, reviews.c.id)
    ):
        if code not in listed[session_id]:
            listed[session_id].append(code)
    connection.execute(sessions.update().values(case_codes=[]))
    for session_id, codes in listed.items():
        connection.execute(sessions.update().where(sessions.c.id == session_id).values(case_codes=codes))
    with op.batch_alter_table("supervision_session", schema=None) as batch_op:
        batch_op.alter_column("case_codes", existing_type=sa.JSON(), nullable=False)

    with op.batch_alter_table("supervision_review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supervision_review_cycle_id"))
        batch_op.drop_index(batch_op.f("ix_supervision_review_case_id"))
        batch_op.drop_index(batch_op.f("ix_supervision_review_session_id"))
    op.drop_table("supervision_review")
