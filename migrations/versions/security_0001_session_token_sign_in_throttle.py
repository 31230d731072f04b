"""session nonce, pending TOTP secret server-side, sign-in throttle

user.session_token: a per-user nonce copied into the session at sign-in and replaced by sign-out,
password change/reset and deactivation. user.totp_pending_secret: the enrolment secret before it
is confirmed (no longer in the session cookie). sign_in_throttle: failures per typed username and
per (username, client) for growing delays instead of a lockout.

Revision ID: security_0001
Revises: trust_0001
Create Date: 2026-11-29 03:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "security_0001"
down_revision = "trust_0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_token", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("totp_pending_secret", sa.String(length=64), nullable=True))
    op.create_table(
        "sign_in_throttle",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_throttle")),
    )


def downgrade():
    op.drop_table("sign_in_throttle")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("totp_pending_secret")
        batch_op.drop_column("session_token")
