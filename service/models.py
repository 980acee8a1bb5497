"""Imports every capability's tables, so that Alembic and the tests see the whole schema."""

from service.auth.models import ApiKey, AppUser, Organization
from service.patients.models import Patient

__all__ = ["ApiKey", "AppUser", "Organization", "Patient"]
