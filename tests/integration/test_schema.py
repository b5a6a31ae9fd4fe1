"""The migrations build the whole schema from nothing and agree with the models (no drift)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext


def test_the_migrated_schema_matches_the_models(app):
    from backend.extensions import db

    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_a_patient_owned_row_cannot_point_at_another_clinics_patient(app, make_clinic,
                                                                     clinician_client,
                                                                     make_patient):
    import pytest
    from sqlalchemy.exc import IntegrityError

    from backend.dbtypes import utcnow
    from backend.extensions import db
    from backend.treatments.models import Treatment

    patient, _ = make_patient(clinician_client)
    other_clinic = make_clinic()
    with app.app_context():
        db.session.add(Treatment(clinic_id=other_clinic, patient_id=patient["id"],
                                 drug="ketamine", dose=1, dose_unit="mg", given_at=utcnow()))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
