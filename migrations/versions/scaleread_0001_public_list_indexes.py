"""public lists at province scale: ranking over every status, published tier decisions

- ix_workshop_ranking_any (tier_code, tier_since DESC [NULLS LAST], name, id): each tier's list
  over every status (/api/v1/workshops?status=all) in ranking order, one range per tier as
  ix_workshop_ranking gives it for one status. PostgreSQL does not merge one range per status of
  a UNION ALL (it sorts the tier), hence its own index.
- ix_tier_decision_published (status, published_at, id, direction, workshop_id): 定榜公告 newest
  first (page, API, feeds) read backwards from the index instead of sorting every published
  decision; their counts (by direction, by county) from the index alone.
- ix_tier_decision_workshop (workshop_id, status, published_at) replaces ix_tier_decision_workshop_id:
  one workshop's published history in order, which the planner would otherwise find by walking
  ix_tier_decision_published (the only index then serving both the state and the order).

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


    op.create_index(
        "ix_tier_decision_published",
        "tier_decision",
        ["status", "published_at", "id", "direction", "workshop_id"],
    )
    op.create_index(
        "ix_tier_decision_workshop", "tier_decision", ["workshop_id", "status", "published_at"]
    )
    op.drop_index("ix_tier_decision_workshop_id", table_name="tier_decision")


def downgrade():
    op.create_index("ix_tier_decision_workshop_id", "tier_decision", ["workshop_id"])
    op.drop_index("ix_tier_decision_workshop", table_name="tier_decision")
    op.drop_index("ix_tier_decision_published", table_name="tier_decision")
    op.execute("DROP INDEX ix_workshop_ranking_any")
