"""station mergers (机构改革): a station's workshops, accounts and case files go to another

Revision ID: merge_0001
Revises: phone_0001
Create Date: 2026-11-29 16:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "merge_0001"
down_revision = "phone_0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "jurisdiction_merge",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("merged_on", sa.Date(), nullable=False),
        sa.Column("document", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["jurisdiction.id"],
            name=op.f("fk_jurisdiction_merge_source_id_jurisdiction"),
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["jurisdiction.id"],
            name=op.f("fk_jurisdiction_merge_target_id_jurisdiction"),
        ),
        sa.PrimaryKeyConstraint("source_id", name=op.f("pk_jurisdiction_merge")),
    )
    op.create_index(
        op.f("ix_jurisdiction_merge_target_id"), "jurisdiction_merge", ["target_id"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_jurisdiction_merge_target_id"), table_name="jurisdiction_merge")
    op.drop_table("jurisdiction_merge")
