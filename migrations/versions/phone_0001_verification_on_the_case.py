"""the reporter's phone verification belongs to the case, not to the WeChat link

complaint.reporter_phone_verified_at takes wechat_binding.phone_verified_at: a case keeps the fact
that its phone was confirmed through WeChat after the mini-program user deletes their account
(wechat.forget removes the binding). The link's column is dropped: one home for the fact.

Revision ID: phone_0001
Revises: scaleread_0001
Create Date: 2026-11-29 12:45:00

"""

import sqlalchemy as sa
from alembic import op

revision = "phone_0001"
down_revision = "scaleread_0001"
branch_labels = None
depends_on = None


# Plain ALTER TABLE … ADD/DROP COLUMN (SQLite 3.35+): a batch copy of complaint would break the
# foreign keys that point at it.


def upgrade():
    op.add_column("complaint", sa.Column("reporter_phone_verified_at", sa.DateTime(), nullable=True))
    op.execute(
        "UPDATE complaint SET reporter_phone_verified_at = (SELECT b.phone_verified_at "
        "FROM wechat_binding b WHERE b.complaint_id = complaint.id) "
        "WHERE id IN (SELECT complaint_id FROM wechat_binding WHERE phone_verified_at IS NOT NULL)"
    )
    op.drop_column("wechat_binding", "phone_verified_at")


def downgrade():
    op.add_column("wechat_binding", sa.Column("phone_verified_at", sa.DateTime(), nullable=True))
    op.execute(
        "UPDATE wechat_binding SET phone_verified_at = (SELECT c.reporter_phone_verified_at "
        "FROM complaint c WHERE c.id = wechat_binding.complaint_id)"
    )
    op.drop_column("complaint", "reporter_phone_verified_at")
