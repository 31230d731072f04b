"""Keyed audit chain (audit_log.key_id) and the public statement chain (public_record)

Revision ID: lead_0001
Revises: 16009adad790
Create Date: 2026-11-29 03:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "lead_0001"
down_revision = "16009adad790"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(length=16), nullable=True))
    op.create_table(
        "public_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("workshop_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("audit_seq", sa.Integer(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_record")),
        sa.UniqueConstraint("seq", name=op.f("uq_public_record_seq")),
    )
    with op.batch_alter_table("public_record", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_public_record_workshop_id"), ["workshop_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("public_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_public_record_workshop_id"))
    op.drop_table("public_record")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("key_id")
