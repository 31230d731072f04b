"""tier decisions carry a public reason; one open tier proposal per workshop, one pending
revocation proposal per title grant

Revision ID: trust_0001
Revises: scale_0001
Create Date: 2026-11-29 03:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "trust_0001"
down_revision = "scale_0001"
branch_labels = None
depends_on = None

OPEN = sa.text("status IN ('proposed', 'decided')")
PENDING = sa.text("status = 'pending'")


def _has_duplicates(table: str, column: str, where: str) -> bool:
    sql = f"SELECT 1 FROM {table} WHERE {where} GROUP BY {column} HAVING COUNT(*) > 1 LIMIT 1"
    return op.get_bind().execute(sa.text(sql)).first() is not None


def upgrade():
    with op.batch_alter_table("tier_decision", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("public_reason", sa.Text(), nullable=False, server_default="")
        )
    # Existing duplicates are left for a regulator to decide (the domain functions refuse new
    # ones); the database enforces the rule wherever the data already obeys it.
    if not _has_duplicates("tier_decision", "workshop_id", str(OPEN)):
        op.create_index(
            "uq_tier_decision_one_open",
            "tier_decision",
            ["workshop_id"],
            unique=True,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        )
    if not _has_duplicates("revocation_proposal", "grant_id", str(PENDING)):
        op.create_index(
            "uq_revocation_one_pending",
            "revocation_proposal",
            ["grant_id"],
            unique=True,
            sqlite_where=PENDING,
            postgresql_where=PENDING,
        )


def downgrade():
    op.execute("DROP INDEX IF EXISTS uq_revocation_one_pending")
    op.execute("DROP INDEX IF EXISTS uq_tier_decision_one_open")
    with op.batch_alter_table("tier_decision", schema=None) as batch_op:
        batch_op.drop_column("public_reason")
