"""The score series index also holds the value, so a cohort read never visits the table.

Revision ID: 7d1e5a0c3b42
Revises: 2ccb9c14f885
Create Date: 2026-11-22 07:30:00

Cohort outcomes read (patient, time, value) for one clinic, instrument and score, ordered by
patient and time: with the value in the index that is one index scan.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '7d1e5a0c3b42'
down_revision = '2ccb9c14f885'
branch_labels = None
depends_on = None

OLD = ['clinic_id', 'instrument_id', 'score_id', 'patient_id', 'at']


def upgrade():
    with op.batch_alter_table('score_values', schema=None) as batch_op:
        batch_op.drop_index('ix_score_values_series')
        batch_op.create_index('ix_score_values_series', OLD + ['value'], unique=False)


def downgrade():
    with op.batch_alter_table('score_values', schema=None) as batch_op:
        batch_op.drop_index('ix_score_values_series')
        batch_op.create_index('ix_score_values_series', OLD, unique=False)
