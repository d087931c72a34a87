"""Certificates (accreditation and stage completion), bulk-issue jobs, the scheduler lease, and
the register opt-in on user.

Revision ID: c7e1f2a3b4d5
Revises: d5c0a1e2b3f4
Create Date: 2026-11-22 07:23:27.034890

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "c7e1f2a3b4d5"
down_revision = "d5c0a1e2b3f4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "scheduler_lease",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=120), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("renewed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_lease")),
    )
    op.create_table(
        "bulk_issue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column(
            "state",
            sa.Enum("queued", "running", "finished", name="bulkissuestate", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("issued_count", sa.Integer(), nullable=False),
        sa.Column("failed_count", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"], name=op.f("fk_bulk_issue_created_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_issue")),
    )
    with op.batch_alter_table("bulk_issue", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bulk_issue_created_by_id"), ["created_by_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bulk_issue_state"), ["state"], unique=False)

    op.create_table(
        "certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("accreditation", "stage", name="certificatekind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("issue_key", sa.String(length=64), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column("holder_name", sa.String(length=200), nullable=False),
        sa.Column("credential", sa.String(length=120), nullable=False),
        sa.Column("pathway_code", sa.String(length=64), nullable=False),
        sa.Column("pathway_version", sa.String(length=32), nullable=False),
        sa.Column("pathway_title", sa.String(length=200), nullable=False),
        sa.Column("stage_number", sa.Integer(), nullable=True),
        sa.Column("stage_name", sa.String(length=120), nullable=True),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("stage_record_id", sa.Integer(), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "valid", "expired", "revoked", "superseded", name="certificatestatus", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("status_changed_at", sa.DateTime(), nullable=True),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.Column(
            "replacement_reason",
            sa.Enum("renewal", "name_change", name="replacementreason", native_enum=False, length=20),
            nullable=True,
        ),
        sa.Column("status_index", sa.Integer(), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["enrolment_id"], ["enrolment.id"], name=op.f("fk_certificate_enrolment_id_enrolment")),
        sa.ForeignKeyConstraint(["holder_id"], ["user.id"], name=op.f("fk_certificate_holder_id_user")),
        sa.ForeignKeyConstraint(["issued_by_id"], ["user.id"], name=op.f("fk_certificate_issued_by_id_user")),
        sa.ForeignKeyConstraint(
            ["replaces_id"], ["certificate.id"], name=op.f("fk_certificate_replaces_id_certificate")
        ),
        sa.ForeignKeyConstraint(
            ["stage_record_id"], ["stage_record.id"], name=op.f("fk_certificate_stage_record_id_stage_record")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate")),
        sa.UniqueConstraint("issue_key", name=op.f("uq_certificate_issue_key")),
        sa.UniqueConstraint("number", name=op.f("uq_certificate_number")),
        sa.UniqueConstraint("replaces_id", name=op.f("uq_certificate_replaces_id")),
        sa.UniqueConstraint("status_index", name=op.f("uq_certificate_status_index")),
    )
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificate_enrolment_id"), ["enrolment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificate_holder_id"), ["holder_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificate_stage_record_id"), ["stage_record_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificate_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificate_valid_until"), ["valid_until"], unique=False)

    op.create_table(
        "bulk_issue_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bulk_issue_id", sa.Integer(), nullable=False),
        sa.Column("stage_record_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum("pending", "issued", "failed", name="bulkitemstate", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("certificate_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["bulk_issue_id"],
            ["bulk_issue.id"],
            name=op.f("fk_bulk_issue_item_bulk_issue_id_bulk_issue"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["certificate_id"], ["certificate.id"], name=op.f("fk_bulk_issue_item_certificate_id_certificate")
        ),
        sa.ForeignKeyConstraint(
            ["stage_record_id"], ["stage_record.id"], name=op.f("fk_bulk_issue_item_stage_record_id_stage_record")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_issue_item")),
        sa.UniqueConstraint("bulk_issue_id", "stage_record_id", name=op.f("uq_bulk_issue_item_bulk_issue_id")),
    )
    with op.batch_alter_table("bulk_issue_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bulk_issue_item_stage_record_id"), ["stage_record_id"], unique=False)

    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("register_opt_in", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("register_opt_in")

    with op.batch_alter_table("bulk_issue_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bulk_issue_item_stage_record_id"))

    op.drop_table("bulk_issue_item")
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificate_valid_until"))
        batch_op.drop_index(batch_op.f("ix_certificate_status"))
        batch_op.drop_index(batch_op.f("ix_certificate_stage_record_id"))
        batch_op.drop_index(batch_op.f("ix_certificate_holder_id"))
        batch_op.drop_index(batch_op.f("ix_certificate_enrolment_id"))

    op.drop_table("certificate")
    with op.batch_alter_table("bulk_issue", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bulk_issue_state"))
        batch_op.drop_index(batch_op.f("ix_bulk_issue_created_by_id"))

    op.drop_table("bulk_issue")
    op.drop_table("scheduler_lease")
