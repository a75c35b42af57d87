"""registration: the (event, status) index also holds role and unit, so that the seats
taken and a unit's share are counted from the index alone

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.create_index('ix_registration_event_status_role_unit',
                              ['event_id', 'status', 'role', 'unit_id'], unique=False)
        batch_op.drop_index('ix_registration_event_status')


def downgrade():
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.create_index('ix_registration_event_status', ['event_id', 'status'],
                              unique=False)
        batch_op.drop_index('ix_registration_event_status_role_unit')
