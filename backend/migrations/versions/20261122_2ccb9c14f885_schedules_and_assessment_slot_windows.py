"""Schedules (per clinic, versioned) and the slot window stored on each assessment.

Revision ID: 2ccb9c14f885
Revises: 46f328586cab
Create Date: 2026-11-22 03:19:40.094967

Existing clinics get the default schedule as version 1 (a copy frozen here, so later edits of
the default in code do not change what this migration did).
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '2ccb9c14f885'
down_revision = '46f328586cab'
branch_labels = None
depends_on = None

DEFAULT_DEFINITION = {'dose_slots': [{'id': 'baseline',
                     'offset_minutes': 0,
                     'before_minutes': 720,
                     'after_minutes': 30,
                     'instruments': ['nrs_pain', 'nrs_fatigue', 'nrs_sleep', 'peg', 'gad7',
                                     'phq9']},
                    {'id': 'min40',
                     'offset_minutes': 40,
                     'before_minutes': 10,
                     'after_minutes': 120,
                     'instruments': ['side_effects', 'nrs_pain']},
                    {'id': 'h24',
                     'offset_minutes': 1440,
                     'before_minutes': 240,
                     'after_minutes': 480,
                     'instruments': ['nrs_pain', 'nrs_fatigue', 'nrs_sleep', 'peg']},
                    {'id': 'h72',
                     'offset_minutes': 4320,
                     'before_minutes': 720,
                     'after_minutes': 720,
                     'instruments': ['nrs_pain', 'nrs_fatigue', 'nrs_sleep', 'peg', 'gad7',
                                     'phq9']},
                    {'id': 'd7',
                     'offset_minutes': 10080,
                     'before_minutes': 1440,
                     'after_minutes': 1440,
                     'instruments': ['nrs_pain', 'nrs_fatigue', 'nrs_sleep', 'peg', 'gad7',
                                     'phq9']},
                    {'id': 'd14',
                     'offset_minutes': 20160,
                     'before_minutes': 2880,
                     'after_minutes': 2880,
                     'instruments': ['nrs_pain', 'nrs_fatigue', 'nrs_sleep', 'peg', 'gad7', 'phq9',
                                     'pgic']}],
     'monthly': {'start_days': 44,
                 'every_days': 30,
                 'count': 6,
                 'before_minutes': 4320,
                 'after_minutes': 4320,
                 'instruments': ['nrs_pain', 'nrs_fatigue', 'nrs_sleep', 'peg', 'gad7', 'phq9',
                                 'pgic']},
     'routine': {'every_days': 7,
                 'quiet_days': 3,
                 'before_minutes': 0,
                 'after_minutes': 4320,
                 'instruments': ['nrs_pain', 'nrs_fatigue', 'nrs_sleep', 'peg', 'gad7', 'phq9']}}


def upgrade():
    schedules = op.create_table(
        'schedules',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('clinic_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('definition', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'),
                  nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('version >= 1', name=op.f('ck_schedules_version')),
        sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'],
                                name=op.f('fk_schedules_clinic_id_clinics')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name=op.f('fk_schedules_created_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_schedules')),
        sa.UniqueConstraint('clinic_id', 'version', name=op.f('uq_schedules_clinic_id_version')),
    )
    op.create_index(op.f('ix_schedules_clinic_id'), 'schedules', ['clinic_id'], unique=False)

    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('schedule_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('window_opens_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('window_closes_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_assessments_schedule_id_schedules'),
                                    'schedules', ['schedule_id'], ['id'])

    clinics = op.get_bind().execute(sa.text('SELECT id FROM clinics')).scalars().all()
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == 'sqlite':
        now = now.replace(tzinfo=None)
    if clinics:
        op.bulk_insert(schedules, [{'clinic_id': cid, 'version': 1,
                                    'definition': DEFAULT_DEFINITION, 'created_at': now}
                                   for cid in clinics])


def downgrade():
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_assessments_schedule_id_schedules'),
                                 type_='foreignkey')
        batch_op.drop_column('window_closes_at')
        batch_op.drop_column('window_opens_at')
        batch_op.drop_column('schedule_id')
    op.drop_index(op.f('ix_schedules_clinic_id'), table_name='schedules')
    op.drop_table('schedules')
