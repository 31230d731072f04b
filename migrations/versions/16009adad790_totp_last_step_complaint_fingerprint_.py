"""totp last step, complaint fingerprint index

A TOTP code is accepted once (user.totp_last_step); similar_recent() looks complaints up by
client fingerprint on every submission.

Revision ID: 16009adad790
Revises: 780912081f70
Create Date: 2026-11-23 13:22:16.891867

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '16009adad790'
down_revision = '780912081f70'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_client_fingerprint'), ['client_fingerprint'], unique=False)

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))



def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')

    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_client_fingerprint'))

