"""REST routes for lab orders under /api/v1/lab-orders."""

from fastapi import APIRouter

from service.api import tags
from service.api.crud_routes import add_crud_routes
from service.labtests.roles import SPECIMEN_READERS, SPECIMEN_WRITERS
from service.orders import logic
from service.orders.schemas import LabOrderFilters, LabOrderPage, LabOrderPatch, LabOrderRead

router = APIRouter(prefix="/api/v1/lab-orders", tags=[tags.LAB_ORDERS])

lab_order_read = add_crud_routes(
    router,
    logic.LAB_ORDERS,
    read_model=LabOrderRead,
    page_model=LabOrderPage,
    patch_model=LabOrderPatch,
    filter_model=LabOrderFilters,
    apply_filters=logic.filter_orders,
    readers=SPECIMEN_READERS,
    writers=SPECIMEN_WRITERS,
)
