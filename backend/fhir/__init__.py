"""FHIR R4 resources built from Ebb's values, as plain dicts (no FHIR library at run time)."""

from .questionnaire import questionnaire_resource

__all__ = ["questionnaire_resource"]
