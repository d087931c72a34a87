"""The renewal rule as a number: each shipped pathway version's stored definition gains
`renewal_supervision_hours`, the figure its `renewal_evidence` text already states.

A loaded pathway version is never edited in place, and `flask pathways sync` refuses a file whose
checksum differs from the stored one. The shipped files now state the number, so their stored
snapshots are brought to the same definition here, once, with the checksum `Pathway.checksum`
computes (sha256 of the definition as JSON with sorted keys and no spaces), and each change is
written to the audit trail. The rule itself does not change: the number is the one the text gave.
Versions loaded from other files are left as they are (no number: renewal then needs some
confirmed supervision and the administrator judges the rest).

Revision ID: e3b5d7f9a1c4
Revises: d7f9b1c3e5a8
Create Date: 2026-12-07 09:30:00.000000

"""

import hashlib
import json
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "e3b5d7f9a1c4"
down_revision = "d7f9b1c3e5a8"
branch_labels = None
depends_on = None

FIELD = "renewal_supervision_hours"
# (code, version) -> hours, as each shipped file's renewal_evidence says.
SHIPPED = {
    ("vig-practitioner", "2015.1"): 6.0,
    ("vig-practitioner", "2024.1"): 6.0,
    ("verp-practitioner", "2024.1"): 4.0,
    ("vig-supervisor", "2024.1"): 6.0,
}

versions = sa.table(
    "pathway_version",
    sa.column("id", sa.Integer),
    sa.column("code", sa.String),
    sa.column("version", sa.String),
    sa.column("definition_json", sa.Text),
    sa.column("checksum", sa.String),
)
audit_events = sa.table(
    "audit_event",
    sa.column("occurred_at", sa.DateTime),
    sa.column("actor_label", sa.String),
    sa.column("action", sa.String),
    sa.column("entity_type", sa.String),
    sa.column("entity_id", sa.String),
    sa.column("before", sa.JSON),
    sa.column("after", sa.JSON),
)


def _canonical(definition: dict) -> str:
    return json.dumps(definition, sort_keys=True, separators=(",", ":"))


def _rewrite(adding: bool) -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(versions.c.id, versions.c.code, versions.c.version, versions.c.definition_json, versions.c.checksum)
    ).all()
    now = datetime.now(UTC).replace(tzinfo=None)
    for row_id, code, version, stored, checksum in rows:
        definition = json.loads(stored)
        if adding:
            hours = SHIPPED.get((code, version))
            if hours is None or FIELD in definition:
                continue
            definition[FIELD] = hours
        elif definition.pop(FIELD, None) is None:
            continue
        text = _canonical(definition)
        new_checksum = hashlib.sha256(text.encode()).hexdigest()
        connection.execute(
            versions.update().where(versions.c.id == row_id).values(definition_json=text, checksum=new_checksum)
        )
        connection.execute(
            audit_events.insert().values(
                occurred_at=now,
                actor_label="system",
                action="pathway.renewal_hours_recorded" if adding else "pathway.renewal_hours_removed",
                entity_type="PathwayVersion",
                entity_id=str(row_id),
                before={"checksum": checksum},
                after={FIELD: definition.get(FIELD), "checksum": new_checksum},
            )
        )


def upgrade():
    _rewrite(adding=True)


def downgrade():
    # The earlier code refuses any field it does not know, so every stored definition loses it.
    _rewrite(adding=False)
