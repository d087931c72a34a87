"""Pathway versions, enrolments, stage records and their history, assessments, cases, cycles and supervision sessions.

Revision ID: f71639ca730e
Revises: ab939e7c5c88
Create Date: 2026-11-22 03:32:35.701815

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "f71639ca730e"
down_revision = "ab939e7c5c88"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "pathway_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("version", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("credential", sa.String(length=120), nullable=False),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("definition_json", sa.Text(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("loaded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pathway_version")),
        sa.UniqueConstraint("code", "version", name=op.f("uq_pathway_version_code")),
    )
    with op.batch_alter_table("pathway_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pathway_version_code"), ["code"], unique=False)

    op.create_table(
        "case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column(
            "relationship_type",
            sa.Enum(
                "parent_infant",
                "parent_child",
                "parent_adolescent",
                "foster_or_adoptive",
                "education",
                "professional",
                "other",
                name="relationship",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column(
            "child_age_band",
            sa.Enum(
                "0-11m", "1-2y", "3-4y", "5-10y", "11-17y", "18+", "n/a", name="ageband", native_enum=False, length=10
            ),
            nullable=False,
        ),
        sa.Column(
            "population",
            sa.Enum(
                "perinatal",
                "early_years",
                "family_support",
                "child_protection",
                "looked_after",
                "neurodevelopmental",
                "education",
                "mental_health",
                "workforce",
                "other",
                name="population",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["practitioner_id"], ["user.id"], name=op.f("fk_case_practitioner_id_user")),
        sa.ForeignKeyConstraint(["region_id"], ["region.id"], name=op.f("fk_case_region_id_region")),
        sa.ForeignKeyConstraint(["service_id"], ["service.id"], name=op.f("fk_case_service_id_service")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case")),
        sa.UniqueConstraint("code", name=op.f("uq_case_code")),
    )
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_practitioner_id"), ["practitioner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_region_id"), ["region_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_service_id"), ["service_id"], unique=False)

    op.create_table(
        "enrolment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trainee_id", sa.Integer(), nullable=False),
        sa.Column("pathway_version_id", sa.Integer(), nullable=False),
        sa.Column("supervisor_id", sa.Integer(), nullable=True),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("active", "paused", "withdrawn", "completed", name="enrolmentstatus", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("status_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pathway_version_id"], ["pathway_version.id"], name=op.f("fk_enrolment_pathway_version_id_pathway_version")
        ),
        sa.ForeignKeyConstraint(["service_id"], ["service.id"], name=op.f("fk_enrolment_service_id_service")),
        sa.ForeignKeyConstraint(["supervisor_id"], ["user.id"], name=op.f("fk_enrolment_supervisor_id_user")),
        sa.ForeignKeyConstraint(["trainee_id"], ["user.id"], name=op.f("fk_enrolment_trainee_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolment")),
    )
    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enrolment_pathway_version_id"), ["pathway_version_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_enrolment_service_id"), ["service_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_enrolment_supervisor_id"), ["supervisor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_enrolment_trainee_id"), ["trainee_id"], unique=False)

    op.create_table(
        "cycle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("filmed_on", sa.Date(), nullable=False),
        sa.Column("shared_review_on", sa.Date(), nullable=False),
        sa.Column("clips_count", sa.Integer(), nullable=False),
        sa.Column("principles", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_cycle_case_id_case"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cycle")),
    )
    with op.batch_alter_table("cycle", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cycle_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cycle_shared_review_on"), ["shared_review_on"], unique=False)

    op.create_table(
        "stage_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("stage_code", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "not_started",
                "in_progress",
                "submitted",
                "returned",
                "signed_off",
                "with_accreditor",
                "accredited",
                "ratified",
                "complete",
                "exempt",
                name="stagestate",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("course_sessions_attended", sa.Integer(), nullable=False),
        sa.Column("statement_text", sa.Text(), nullable=True),
        sa.Column("statement_file_name", sa.String(length=200), nullable=True),
        sa.Column("statement_file_key", sa.String(length=64), nullable=True),
        sa.Column("statement_file_type", sa.String(length=100), nullable=True),
        sa.Column("statement_file_size", sa.Integer(), nullable=True),
        sa.Column("statement_updated_at", sa.DateTime(), nullable=True),
        sa.Column("accrediting_supervisor_id", sa.Integer(), nullable=True),
        sa.Column("meeting_date", sa.Date(), nullable=True),
        sa.Column("meeting_comments", sa.Text(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("signed_off_by_id", sa.Integer(), nullable=True),
        sa.Column("signed_off_at", sa.DateTime(), nullable=True),
        sa.Column("accredited_by_id", sa.Integer(), nullable=True),
        sa.Column("accredited_at", sa.DateTime(), nullable=True),
        sa.Column("ratified_by_id", sa.Integer(), nullable=True),
        sa.Column("ratified_at", sa.DateTime(), nullable=True),
        sa.Column("exemption_reason", sa.String(length=1000), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["accredited_by_id"], ["user.id"], name=op.f("fk_stage_record_accredited_by_id_user")),
        sa.ForeignKeyConstraint(
            ["accrediting_supervisor_id"], ["user.id"], name=op.f("fk_stage_record_accrediting_supervisor_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["enrolment_id"], ["enrolment.id"], name=op.f("fk_stage_record_enrolment_id_enrolment"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["ratified_by_id"], ["user.id"], name=op.f("fk_stage_record_ratified_by_id_user")),
        sa.ForeignKeyConstraint(["signed_off_by_id"], ["user.id"], name=op.f("fk_stage_record_signed_off_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_record")),
        sa.UniqueConstraint("enrolment_id", "stage_code", name=op.f("uq_stage_record_enrolment_id")),
    )
    with op.batch_alter_table("stage_record", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stage_record_accrediting_supervisor_id"), ["accrediting_supervisor_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_stage_record_enrolment_id"), ["enrolment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_stage_record_state"), ["state"], unique=False)

    op.create_table(
        "supervision_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("supervisor_id", sa.Integer(), nullable=False),
        sa.Column("session_date", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=True),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column(
            "format", sa.Enum("individual", "group", name="sessionformat", native_enum=False, length=30), nullable=False
        ),
        sa.Column("group_size", sa.Integer(), nullable=True),
        sa.Column(
            "mode", sa.Enum("in_person", "remote", name="sessionmode", native_enum=False, length=30), nullable=False
        ),
        sa.Column("clips_reviewed", sa.Integer(), nullable=False),
        sa.Column("case_codes", sa.JSON(), nullable=False),
        sa.Column("principles", sa.JSON(), nullable=False),
        sa.Column("reflection", sa.Text(), nullable=True),
        sa.Column("next_steps", sa.Text(), nullable=True),
        sa.Column("supervisor_comments", sa.Text(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("logged", "confirmed", "queried", "superseded", name="sessionstatus", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("logged_by_id", sa.Integer(), nullable=False),
        sa.Column("logged_at", sa.DateTime(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.Column("amendment_reason", sa.String(length=500), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["amends_id"], ["supervision_session.id"], name=op.f("fk_supervision_session_amends_id_supervision_session")
        ),
        sa.ForeignKeyConstraint(
            ["enrolment_id"], ["enrolment.id"], name=op.f("fk_supervision_session_enrolment_id_enrolment")
        ),
        sa.ForeignKeyConstraint(["logged_by_id"], ["user.id"], name=op.f("fk_supervision_session_logged_by_id_user")),
        sa.ForeignKeyConstraint(["supervisor_id"], ["user.id"], name=op.f("fk_supervision_session_supervisor_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_session")),
    )
    with op.batch_alter_table("supervision_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_supervision_session_enrolment_id"), ["enrolment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_supervision_session_session_date"), ["session_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_supervision_session_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_supervision_session_supervisor_id"), ["supervisor_id"], unique=False)

    op.create_table(
        "assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stage_record_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind", sa.Enum("self", "supervisor", name="assessmentkind", native_enum=False, length=12), nullable=False
        ),
        sa.Column("assessor_id", sa.Integer(), nullable=False),
        sa.Column("ratings", sa.JSON(), nullable=False),
        sa.Column("principles_version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["assessor_id"], ["user.id"], name=op.f("fk_assessment_assessor_id_user")),
        sa.ForeignKeyConstraint(
            ["stage_record_id"],
            ["stage_record.id"],
            name=op.f("fk_assessment_stage_record_id_stage_record"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment")),
        sa.UniqueConstraint("stage_record_id", "kind", name=op.f("uq_assessment_stage_record_id")),
    )
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assessment_stage_record_id"), ["stage_record_id"], unique=False)

    op.create_table(
        "stage_transition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stage_record_id", sa.Integer(), nullable=False),
        sa.Column(
            "from_state",
            sa.Enum(
                "not_started",
                "in_progress",
                "submitted",
                "returned",
                "signed_off",
                "with_accreditor",
                "accredited",
                "ratified",
                "complete",
                "exempt",
                name="stagestate",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column(
            "to_state",
            sa.Enum(
                "not_started",
                "in_progress",
                "submitted",
                "returned",
                "signed_off",
                "with_accreditor",
                "accredited",
                "ratified",
                "complete",
                "exempt",
                name="stagestate",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("comments", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["user.id"], name=op.f("fk_stage_transition_actor_id_user")),
        sa.ForeignKeyConstraint(
            ["stage_record_id"],
            ["stage_record.id"],
            name=op.f("fk_stage_transition_stage_record_id_stage_record"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_transition")),
    )
    with op.batch_alter_table("stage_transition", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stage_transition_stage_record_id"), ["stage_record_id"], unique=False)


def downgrade():
    with op.batch_alter_table("stage_transition", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stage_transition_stage_record_id"))

    op.drop_table("stage_transition")
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_stage_record_id"))

    op.drop_table("assessment")
    with op.batch_alter_table("supervision_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supervision_session_supervisor_id"))
        batch_op.drop_index(batch_op.f("ix_supervision_session_status"))
        batch_op.drop_index(batch_op.f("ix_supervision_session_session_date"))
        batch_op.drop_index(batch_op.f("ix_supervision_session_enrolment_id"))

    op.drop_table("supervision_session")
    with op.batch_alter_table("stage_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stage_record_state"))
        batch_op.drop_index(batch_op.f("ix_stage_record_enrolment_id"))
        batch_op.drop_index(batch_op.f("ix_stage_record_accrediting_supervisor_id"))

    op.drop_table("stage_record")
    with op.batch_alter_table("cycle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cycle_shared_review_on"))
        batch_op.drop_index(batch_op.f("ix_cycle_case_id"))

    op.drop_table("cycle")
    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrolment_trainee_id"))
        batch_op.drop_index(batch_op.f("ix_enrolment_supervisor_id"))
        batch_op.drop_index(batch_op.f("ix_enrolment_service_id"))
        batch_op.drop_index(batch_op.f("ix_enrolment_pathway_version_id"))

    op.drop_table("enrolment")
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_service_id"))
        batch_op.drop_index(batch_op.f("ix_case_region_id"))
        batch_op.drop_index(batch_op.f("ix_case_practitioner_id"))

    op.drop_table("case")
    with op.batch_alter_table("pathway_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pathway_version_code"))

    op.drop_table("pathway_version")
