"""outgoing mail: a registration's mail is composed when it is sent (body_text may be
empty until then; params keeps the site address and waiting-list position of the moment
it was queued)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outgoing_mail', schema=None) as batch_op:
        batch_op.alter_column('body_text', existing_type=sa.Text(), nullable=True)
        batch_op.add_column(sa.Column('params', sa.JSON(), nullable=True))


def downgrade():
    # The older schema needs a text: a message not yet composed is left with an empty one.
    op.execute("UPDATE outgoing_mail SET body_text = '' WHERE body_text IS NULL")
    with op.batch_alter_table('outgoing_mail', schema=None) as batch_op:
        batch_op.drop_column('params')
        batch_op.alter_column('body_text', existing_type=sa.Text(), nullable=False)
