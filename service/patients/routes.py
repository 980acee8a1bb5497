"""REST routes for patients under /api/v1/patients."""

from fastapi import APIRouter

from service.api.crud_routes import add_crud_routes
from service.auth.roles import ALL_ROLES, Role
from service.paging import SortKey
from service.patients import repository
from service.patients.coverage_schemas import (
    CoverageFilters,
    CoveragePage,
    CoveragePatch,
    CoverageRead,
)
from service.patients.coverages import COVERAGES, filter_coverages
from service.patients.logic import PATIENTS
from service.patients.models import Patient
from service.patients.schemas import PatientFilters, PatientPage, PatientPatch, PatientRead

router = APIRouter(prefix="/api/v1/patients", tags=["patients"])

patient_read = add_crud_routes(
    router,
    PATIENTS,
    read_model=PatientRead,
    page_model=PatientPage,
    patch_model=PatientPatch,
    filter_model=PatientFilters,
    apply_filters=repository.filter_patients,
    readers=ALL_ROLES,
    writers=frozenset({Role.ADMIN, Role.FRONT_DESK, Role.INTEGRATION}),
    natural_key=("mrn", "mrn"),
    sort_keys={"family_name": SortKey(Patient.family_name), "mrn": SortKey(Patient.mrn)},
)

coverages = APIRouter(prefix="/api/v1/coverages", tags=["patients"])

coverage_read = add_crud_routes(
    coverages,
    COVERAGES,
    read_model=CoverageRead,
    page_model=CoveragePage,
    patch_model=CoveragePatch,
    filter_model=CoverageFilters,
    apply_filters=filter_coverages,
    readers=ALL_ROLES,
    writers=frozenset({Role.ADMIN, Role.FRONT_DESK, Role.INTEGRATION}),
)
