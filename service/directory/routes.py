"""REST routes for payers, providers, facilities and fee schedules."""

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlmodel.sql.expression import SelectOfScalar

from service.api import tags
from service.api.crud_routes import add_crud_routes
from service.auth.roles import ALL_ROLES, Role
from service.directory import logic
from service.directory.models import FeeSchedule, Payer, Provider
from service.directory.schemas import (
    FacilityCreate,
    FacilityRead,
    FeeScheduleCreate,
    FeeScheduleRead,
    PayerCreate,
    PayerRead,
    ProviderCreate,
    ProviderRead,
    TradingPartnerCreate,
    TradingPartnerRead,
)
from service.filters import Filter, apply_filters
from service.schemas_common import page_of, patch_of

# DESIGN.md: everyone reads the directory; admin and biller write it; integrations write all
# but fee schedules.
DIRECTORY_WRITERS = frozenset({Role.ADMIN, Role.BILLER, Role.INTEGRATION})
FEE_READERS = ALL_ROLES - {Role.INTEGRATION}
FEE_WRITERS = frozenset({Role.ADMIN, Role.BILLER})
# Trading partners sit with claims and batches in DESIGN.md's table.
PARTNER_READERS = frozenset({Role.ADMIN, Role.BILLER, Role.CODER, Role.AUDITOR})


class PayerFilters(BaseModel):
    edi_payer_id: str | None = Field(default=None, max_length=80)


class ProviderFilters(BaseModel):
    npi: str | None = Field(default=None, max_length=10)


class FacilityFilters(BaseModel):
    pass


class FeeScheduleFilters(BaseModel):
    payer_id: str | None = Field(default=None, max_length=32)


def _payers(query: SelectOfScalar[Any], f: PayerFilters) -> SelectOfScalar[Any]:
    return apply_filters(query, f, (Filter("edi_payer_id", Payer.edi_payer_id),))


def _providers(query: SelectOfScalar[Any], f: ProviderFilters) -> SelectOfScalar[Any]:
    return apply_filters(query, f, (Filter("npi", Provider.npi),))


def _facilities(query: SelectOfScalar[Any], f: FacilityFilters) -> SelectOfScalar[Any]:
    return query


def _fee_schedules(query: SelectOfScalar[Any], f: FeeScheduleFilters) -> SelectOfScalar[Any]:
    return apply_filters(query, f, (Filter("payer_id", FeeSchedule.payer_id),))


class TradingPartnerFilters(BaseModel):
    pass


def _partners(query: SelectOfScalar[Any], f: TradingPartnerFilters) -> SelectOfScalar[Any]:
    return query


payers = APIRouter(prefix="/api/v1/payers", tags=[tags.DIRECTORY])
providers = APIRouter(prefix="/api/v1/providers", tags=[tags.DIRECTORY])
facilities = APIRouter(prefix="/api/v1/facilities", tags=[tags.DIRECTORY])
fee_schedules = APIRouter(prefix="/api/v1/fee-schedules", tags=[tags.DIRECTORY])
trading_partners = APIRouter(prefix="/api/v1/trading-partners", tags=[tags.DIRECTORY])

payer_read = add_crud_routes(
    payers,
    logic.PAYERS,
    read_model=PayerRead,
    page_model=page_of(PayerRead),
    patch_model=patch_of(PayerCreate),
    filter_model=PayerFilters,
    apply_filters=_payers,
    readers=ALL_ROLES,
    writers=DIRECTORY_WRITERS,
    default_sort="created_at",  # the directory in the order it was entered
    natural_key=("payer-id", "edi_payer_id"),
)
provider_read = add_crud_routes(
    providers,
    logic.PROVIDERS,
    read_model=ProviderRead,
    page_model=page_of(ProviderRead),
    patch_model=patch_of(ProviderCreate),
    filter_model=ProviderFilters,
    apply_filters=_providers,
    readers=ALL_ROLES,
    writers=DIRECTORY_WRITERS,
    default_sort="created_at",  # the directory in the order it was entered
    natural_key=("npi", "npi"),
)
facility_read = add_crud_routes(
    facilities,
    logic.FACILITIES,
    read_model=FacilityRead,
    page_model=page_of(FacilityRead),
    patch_model=patch_of(FacilityCreate),
    filter_model=FacilityFilters,
    apply_filters=_facilities,
    readers=ALL_ROLES,
    writers=DIRECTORY_WRITERS,
    default_sort="created_at",  # the directory in the order it was entered
)
fee_schedule_read = add_crud_routes(
    fee_schedules,
    logic.FEE_SCHEDULES,
    read_model=FeeScheduleRead,
    page_model=page_of(FeeScheduleRead),
    patch_model=patch_of(FeeScheduleCreate),
    filter_model=FeeScheduleFilters,
    apply_filters=_fee_schedules,
    readers=FEE_READERS,
    writers=FEE_WRITERS,
    default_sort="created_at",
)

trading_partner_read = add_crud_routes(
    trading_partners,
    logic.TRADING_PARTNERS,
    read_model=TradingPartnerRead,
    page_model=page_of(TradingPartnerRead),
    patch_model=patch_of(TradingPartnerCreate),
    filter_model=TradingPartnerFilters,
    apply_filters=_partners,
    readers=PARTNER_READERS,
    writers=FEE_WRITERS,
    default_sort="created_at",
)

ROUTERS = [payers, providers, facilities, fee_schedules, trading_partners]
