"""ranking index over every status: API lists with status=all page through an index

ix_workshop_ranking_any (tier_code, tier_since DESC [NULLS LAST], name, id): each tier's list over
every status (/api/v1/workshops?status=all) in ranking order, one range per tier as
ix_workshop_ranking gives it for one status. PostgreSQL does not merge one range per status of a
UNION ALL (it sorts the tier), hence its own index.

Revision ID: scaleread_0001
Revises: security_0001
Create Date: 2026-11-29 06:20:00

"""

from alembic import op

revision = "scaleread_0001"
down_revision = "security_0001"
branch_labels = None
depends_on = None


def upgrade():
    # As ix_workshop_ranking: SQLite's DESC already puts NULLs last (and it refuses NULLS LAST
    # in an index); PostgreSQL needs it spelled out to serve the ORDER BY.
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute(
        "CREATE INDEX ix_workshop_ranking_any ON workshop (tier_code, tier_since DESC"
        + (" NULLS LAST" if postgres else "")
        + ", name, id)"
    )


def downgrade():
    op.execute("DROP INDEX ix_workshop_ranking_any")
