"""clinic records and access

Revision ID: 0001
Revises:
Create Date: 2026-11-21 03:25:25.195329
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('app_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=60), nullable=False),
    sa.Column('full_name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.String(length=30), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_user')),
    sa.UniqueConstraint('username', name=op.f('uq_app_user_username'))
    )
    op.create_table('counter',
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_counter'))
    )
    op.create_table('location',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('address_line1', sa.String(length=120), nullable=False),
    sa.Column('address_line2', sa.String(length=120), nullable=False),
    sa.Column('city', sa.String(length=80), nullable=False),
    sa.Column('state', sa.String(length=2), nullable=False),
    sa.Column('zip_code', sa.String(length=10), nullable=False),
    sa.Column('phone', sa.String(length=10), nullable=False),
    sa.Column('pos_code', sa.String(length=2), nullable=False),
    sa.Column('npi', sa.String(length=10), nullable=False),
    sa.Column('tin', sa.String(length=9), nullable=False),
    sa.Column('time_zone', sa.String(length=60), nullable=False),
    sa.Column('observe_holidays', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_location')),
    sa.UniqueConstraint('code', name=op.f('uq_location_code'))
    )
    op.create_table('payer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('edi_payer_id', sa.String(length=20), nullable=False),
    sa.Column('address_line1', sa.String(length=120), nullable=False),
    sa.Column('city', sa.String(length=80), nullable=False),
    sa.Column('state', sa.String(length=2), nullable=False),
    sa.Column('zip_code', sa.String(length=10), nullable=False),
    sa.Column('phone', sa.String(length=10), nullable=False),
    sa.Column('timely_filing_days', sa.SmallInteger(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payer')),
    sa.UniqueConstraint('name', name=op.f('uq_payer_name'))
    )
    op.create_table('provider',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('family_name', sa.String(length=100), nullable=False),
    sa.Column('given_name', sa.String(length=100), nullable=False),
    sa.Column('credentials', sa.String(length=40), nullable=False),
    sa.Column('npi', sa.String(length=10), nullable=False),
    sa.Column('licence_number', sa.String(length=30), nullable=False),
    sa.Column('licence_state', sa.String(length=2), nullable=False),
    sa.Column('rems_enrolled', sa.Boolean(), nullable=False),
    sa.Column('max_concurrent_chairs', sa.SmallInteger(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provider')),
    sa.UniqueConstraint('npi', name=op.f('uq_provider_npi'))
    )
    op.create_table('audit_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('entity', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.String(length=40), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_audit_entry_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry'))
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entity', ['entity', 'entity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_at'), ['at'], unique=False)

    op.create_table('chair',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('modalities', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_chair_location_id_location')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chair')),
    sa.UniqueConstraint('location_id', 'name', name=op.f('uq_chair_location_id'))
    )
    op.create_table('closure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.CheckConstraint('first_day <= last_day', name=op.f('ck_closure_order')),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_closure_location_id_location'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_closure'))
    )
    op.create_table('holiday_worked',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('holiday_name', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_holiday_worked_location_id_location'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holiday_worked')),
    sa.UniqueConstraint('location_id', 'holiday_name', name=op.f('uq_holiday_worked_location_id'))
    )
    op.create_table('opening_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.SmallInteger(), nullable=False),
    sa.Column('opens', sa.Time(), nullable=False),
    sa.Column('closes', sa.Time(), nullable=False),
    sa.CheckConstraint('opens < closes', name=op.f('ck_opening_hours_order')),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_opening_hours_weekday')),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_opening_hours_location_id_location'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opening_hours'))
    )
    op.create_table('patient',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mrn', sa.String(length=12), nullable=False),
    sa.Column('family_name', sa.String(length=100), nullable=False),
    sa.Column('given_name', sa.String(length=100), nullable=False),
    sa.Column('middle_name', sa.String(length=100), nullable=False),
    sa.Column('preferred_name', sa.String(length=100), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=False),
    sa.Column('sex', sa.String(length=30), nullable=False),
    sa.Column('phone', sa.String(length=10), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=False),
    sa.Column('address_line1', sa.String(length=120), nullable=False),
    sa.Column('address_line2', sa.String(length=120), nullable=False),
    sa.Column('city', sa.String(length=80), nullable=False),
    sa.Column('state', sa.String(length=2), nullable=False),
    sa.Column('zip_code', sa.String(length=10), nullable=False),
    sa.Column('emergency_contact_name', sa.String(length=120), nullable=False),
    sa.Column('emergency_contact_phone', sa.String(length=10), nullable=False),
    sa.Column('emergency_contact_relationship', sa.String(length=40), nullable=False),
    sa.Column('driver_name', sa.String(length=120), nullable=False),
    sa.Column('driver_phone', sa.String(length=10), nullable=False),
    sa.Column('screening_flags', sa.String(length=200), nullable=False),
    sa.Column('rems_enrolled_on', sa.Date(), nullable=True),
    sa.Column('weight_kg', sa.BigInteger(), nullable=True),
    sa.Column('home_location_id', sa.Integer(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('search_family', sa.String(length=100).with_variant(sa.String(length=100, collation='C'), 'postgresql'), nullable=False),
    sa.Column('search_given', sa.String(length=100).with_variant(sa.String(length=100, collation='C'), 'postgresql'), nullable=False),
    sa.Column('phone_tail', sa.String(length=10).with_variant(sa.String(length=10, collation='C'), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['home_location_id'], ['location.id'], name=op.f('fk_patient_home_location_id_location')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patient')),
    sa.UniqueConstraint('mrn', name=op.f('uq_patient_mrn'))
    )
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.create_index('ix_patient_dob', ['date_of_birth'], unique=False)
        batch_op.create_index('ix_patient_name_order', ['search_family', 'search_given', 'id'], unique=False)
        batch_op.create_index('ix_patient_phone', ['phone'], unique=False)
        batch_op.create_index('ix_patient_phone_tail', ['phone_tail'], unique=False)

    op.create_table('provider_location',
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_provider_location_location_id_location'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_provider_location_provider_id_provider'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('provider_id', 'location_id', name=op.f('pk_provider_location'))
    )
    op.create_table('diagnosis',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_diagnosis_patient_id_patient'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_diagnosis')),
    sa.UniqueConstraint('patient_id', 'code', name=op.f('uq_diagnosis_patient_id'))
    )
    op.create_table('insurance_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('payer_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.String(length=30), nullable=False),
    sa.Column('member_id', sa.String(length=30), nullable=False),
    sa.Column('group_number', sa.String(length=30), nullable=False),
    sa.Column('subscriber_name', sa.String(length=120), nullable=False),
    sa.Column('subscriber_dob', sa.Date(), nullable=True),
    sa.Column('relationship_to_subscriber', sa.String(length=30), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('effective_to', sa.Date(), nullable=True),
    sa.Column('prior_auth_number', sa.String(length=40), nullable=False),
    sa.Column('sessions_authorized', sa.Integer(), nullable=True),
    sa.Column('auth_from', sa.Date(), nullable=True),
    sa.Column('auth_to', sa.Date(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_insurance_policy_patient_id_patient')),
    sa.ForeignKeyConstraint(['payer_id'], ['payer.id'], name=op.f('fk_insurance_policy_payer_id_payer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insurance_policy'))
    )
    with op.batch_alter_table('insurance_policy', schema=None) as batch_op:
        batch_op.create_index('ix_policy_patient', ['patient_id', 'rank'], unique=False)

    op.create_table('patient_search_word',
    sa.Column('word', sa.String(length=60).with_variant(sa.String(length=60, collation='C'), 'postgresql'), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_patient_search_word_patient_id_patient'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('word', 'patient_id', name=op.f('pk_patient_search_word'))
    )


def downgrade() -> None:
    op.drop_table('patient_search_word')
    with op.batch_alter_table('insurance_policy', schema=None) as batch_op:
        batch_op.drop_index('ix_policy_patient')

    op.drop_table('insurance_policy')
    op.drop_table('diagnosis')
    op.drop_table('provider_location')
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.drop_index('ix_patient_phone_tail')
        batch_op.drop_index('ix_patient_phone')
        batch_op.drop_index('ix_patient_name_order')
        batch_op.drop_index('ix_patient_dob')

    op.drop_table('patient')
    op.drop_table('opening_hours')
    op.drop_table('holiday_worked')
    op.drop_table('closure')
    op.drop_table('chair')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entry_at'))
        batch_op.drop_index('ix_audit_entity')

    op.drop_table('audit_entry')
    op.drop_table('provider')
    op.drop_table('payer')
    op.drop_table('location')
    op.drop_table('counter')
    op.drop_table('app_user')
