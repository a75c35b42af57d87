"""registration: the placement's index also holds the waiting time, so that the waiting
list's length and its last place are read from the index alone, in one pass

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.create_index('ix_registration_placement',
                              ['event_id', 'status', 'role', 'unit_id', 'waitlisted_at'],
                              unique=False)
        batch_op.drop_index('ix_registration_event_status_role_unit')


def downgrade():
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.create_index('ix_registration_event_status_role_unit',
                              ['event_id', 'status', 'role', 'unit_id'], unique=False)
        batch_op.drop_index('ix_registration_placement')
