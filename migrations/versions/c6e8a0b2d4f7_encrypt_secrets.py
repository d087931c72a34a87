"""Secrets at rest: TOTP secrets, and the bodies of email not yet sent (they carry one-time links),
are encrypted with the data keys (see vigtrain/encryption.py), which are never kept in the database.

Revision ID: c6e8a0b2d4f7
Revises: b5d7f9a1c3e6
Create Date: 2026-12-06 22:10:00.000000

"""

from alembic import op
import sqlalchemy as sa

from vigtrain import encryption


# revision identifiers, used by Alembic.
revision = "c6e8a0b2d4f7"
down_revision = "b5d7f9a1c3e6"
branch_labels = None
depends_on = None

# The columns this revision encrypts, and how many rows are held in memory at once.
ENCRYPTED = (("user", "totp_secret"), ("outbox_message", "body"))
BATCH = 500
# A 64-byte TOTP secret's Fernet token is at most 184 characters (encryption.ciphertext_length(64)).
TOTP_PLAIN, TOTP_STORED = 64, 184


def upgrade():
    _retype_totp_secret(TOTP_STORED)
    for table_name, column_name in ENCRYPTED:
        _rewrite(table_name, column_name, encrypting=True)


def downgrade():
    for table_name, column_name in ENCRYPTED:
        _rewrite(table_name, column_name, encrypting=False)
    _retype_totp_secret(TOTP_PLAIN)


def _rewrite(table_name: str, column_name: str, encrypting: bool) -> None:
    """Encrypt every plaintext value (or decrypt every token) in place, a batch of rows at a time.

    The keys are the application's (`flask db upgrade` runs inside it), so a value is written
    exactly as the models would write it. Values already in the wanted form are left alone, so a
    run that stopped part-way can simply be run again.
    """
    connection = op.get_bind()
    rows = sa.table(table_name, sa.column("id"), sa.column(column_name))
    row_id, value = rows.c.id, rows.c[column_name]
    rewrite = rows.update().where(row_id == sa.bindparam("row_id")).values({value: sa.bindparam("new_value")})
    after = 0
    while batch := connection.execute(
        sa.select(row_id, value).where(value.is_not(None), row_id > after).order_by(row_id).limit(BATCH)
    ).all():
        changes = [
            {
                "row_id": key,
                "new_value": encryption.encrypt(stored)
                if encrypting
                else encryption.decrypt(stored, f"{table_name}.{column_name} of row {key}"),
            }
            for key, stored in batch
            if encryption.is_encrypted(stored) != encrypting
        ]
        if changes:
            connection.execute(rewrite, changes)
        after = batch[-1][0]


def _retype_totp_secret(length: int) -> None:
    """Make user.totp_secret VARCHAR(length), keeping its values.

    SQLite cannot change a column's type, and batch mode's copy-and-swap of the table would drop
    the old "user" table: with foreign keys enforced, SQLite first deletes its rows, and the
    deletion cascades to every row that refers to a person. So SQLite gets a new column instead.
    """
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column(
            "user",
            "totp_secret",
            existing_type=sa.String(TOTP_STORED if length == TOTP_PLAIN else TOTP_PLAIN),
            type_=sa.String(length),
            existing_nullable=True,
        )
        return
    op.execute(sa.text(f'ALTER TABLE "user" ADD COLUMN totp_secret_retyped VARCHAR({length})'))
    op.execute(sa.text('UPDATE "user" SET totp_secret_retyped = totp_secret'))
    op.execute(sa.text('ALTER TABLE "user" DROP COLUMN totp_secret'))
    op.execute(sa.text('ALTER TABLE "user" RENAME COLUMN totp_secret_retyped TO totp_secret'))
