"""Imports every capability's tables, so that Alembic and the tests see the whole schema."""

from service.audit.models import AuditEvent
from service.auth.models import ApiKey, AppUser, Organization
from service.patients.models import Patient

__all__ = ["ApiKey", "AppUser", "AuditEvent", "Organization", "Patient"]
