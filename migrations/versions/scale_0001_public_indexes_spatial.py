"""public read paths at province scale: ranking, count and category indexes; spatial index

- ix_workshop_ranking (status, tier_code, tier_since DESC [NULLS LAST], name, id): each tier's
  ranking list in order, and tier counts, from the index alone;
- ix_workshop_status_station_tier: tier counts per county and station (covering);
- ix_workshop_category_category: workshops of a category;
- ix_title_grant_revoked: titles revoked in the last year (通报取消称号);
- the spatial index for /api/v1/nearby (shifangbang/py): SQLite's R*Tree table
  workshop_geo with its triggers, PostgreSQL's GiST index on point(lng, lat).

Revision ID: scale_0001
Revises: programme_0001
Create Date: 2026-11-29 03:10:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "scale_0001"
down_revision = "programme_0001"
branch_labels = None
depends_on = None


SQLITE_DDL = [
    "CREATE VIRTUAL TABLE workshop_geo USING rtree("
    "id, min_lat, max_lat, min_lng, max_lng, +lat, +lng, +status)",
    "CREATE TRIGGER workshop_geo_ai AFTER INSERT ON workshop "
    "WHEN new.lat IS NOT NULL AND new.lng IS NOT NULL BEGIN "
    "INSERT INTO workshop_geo VALUES "
    "(new.id, new.lat, new.lat, new.lng, new.lng, new.lat, new.lng, new.status); END",
    "CREATE TRIGGER workshop_geo_au AFTER UPDATE OF lat, lng, status ON workshop BEGIN "
    "DELETE FROM workshop_geo WHERE id = old.id; "
    "INSERT INTO workshop_geo SELECT new.id, new.lat, new.lat, new.lng, new.lng, "
    "new.lat, new.lng, new.status WHERE new.lat IS NOT NULL AND new.lng IS NOT NULL; END",
    "CREATE TRIGGER workshop_geo_ad AFTER DELETE ON workshop BEGIN "
    "DELETE FROM workshop_geo WHERE id = old.id; END",
    "INSERT INTO workshop_geo SELECT id, lat, lat, lng, lng, lat, lng, status FROM workshop "
    "WHERE lat IS NOT NULL AND lng IS NOT NULL",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS workshop_geo_ai",
    "DROP TRIGGER IF EXISTS workshop_geo_au",
    "DROP TRIGGER IF EXISTS workshop_geo_ad",
    "DROP TABLE IF EXISTS workshop_geo",
]
POSTGRES_DDL = [
    "CREATE INDEX ix_workshop_geo ON workshop USING gist (point(lng, lat)) "
    "WHERE lat IS NOT NULL AND lng IS NOT NULL",
]
POSTGRES_DROP = ["DROP INDEX IF EXISTS ix_workshop_geo"]


def upgrade():
    op.create_index(
        "ix_workshop_status_station_tier", "workshop", ["status", "station_id", "tier_code"]
    )
    op.create_index(
        "ix_workshop_category_category", "workshop_category", ["category_id", "workshop_id"]
    )
    op.create_index("ix_title_grant_revoked", "title_grant", ["status", "revoked_on"])
    postgres = op.get_bind().dialect.name == "postgresql"
    # SQLite keeps NULLs first in ascending order, so DESC already puts them last (and it
    # refuses NULLS LAST in an index); PostgreSQL needs it spelled out to serve the ORDER BY.
    op.execute(
        "CREATE INDEX ix_workshop_ranking ON workshop (status, tier_code, tier_since DESC"
        + (" NULLS LAST" if postgres else "")
        + ", name, id)"
    )
    for sql in POSTGRES_DDL if postgres else SQLITE_DDL:
        op.execute(sql)


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    for sql in POSTGRES_DROP if postgres else SQLITE_DROP:
        op.execute(sql)
    op.execute("DROP INDEX ix_workshop_ranking")
    op.drop_index("ix_title_grant_revoked", table_name="title_grant")
    op.drop_index("ix_workshop_category_category", table_name="workshop_category")
    op.drop_index("ix_workshop_status_station_tier", table_name="workshop")
