"""REST routes for the test catalog under /api/v1/lab-tests."""

from fastapi import APIRouter

from service.api import tags
from service.api.crud_routes import add_crud_routes
from service.labtests import logic
from service.labtests.roles import CATALOG_READERS, CATALOG_WRITERS
from service.labtests.schemas import LabTestFilters, LabTestPage, LabTestPatch, LabTestRead

router = APIRouter(prefix="/api/v1/lab-tests", tags=[tags.LAB_ORDERS])

lab_test_read = add_crud_routes(
    router,
    logic.LAB_TESTS,
    read_model=LabTestRead,
    page_model=LabTestPage,
    patch_model=LabTestPatch,
    filter_model=LabTestFilters,
    apply_filters=logic.filter_lab_tests,
    readers=CATALOG_READERS,
    writers=CATALOG_WRITERS,
    default_sort="created_at",  # the catalog in the order it was entered
)
