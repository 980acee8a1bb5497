"""Directory records: NPI unique per organization, fee schedules name a payer of their own
organization, and the fee a service line is charged."""

from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from service import crud
from service.auth.logic import Principal
from service.directory.models import Facility, FeeSchedule, Payer, Provider, TradingPartner
from service.directory.schemas import (
    FacilityCreate,
    FeeScheduleCreate,
    PayerCreate,
    ProviderCreate,
    TradingPartnerCreate,
)
from service.errors import Conflict
from service.references import resolve_reference


class ProviderNpiTaken(Conflict):
    code = "provider-npi-taken"


def _check_provider(session: Session, actor: Principal, data: ProviderCreate, row: Any) -> None:
    other = session.exec(
        select(Provider).where(
            Provider.organization_id == actor.organization_id, Provider.npi == data.npi
        )
    ).first()
    if other is not None and (row is None or other.id != row.id):
        raise ProviderNpiTaken(f"NPI {data.npi} belongs to provider {other.id} already.")


def _check_fee_schedule(
    session: Session, actor: Principal, data: FeeScheduleCreate, row: Any
) -> None:
    resolve_reference(session, actor, Payer, data, "payer_id")


PAYERS: crud.Resource[Payer, PayerCreate] = crud.Resource(
    name="payer", model=Payer, create_schema=PayerCreate, json_fields=("address",)
)
PROVIDERS: crud.Resource[Provider, ProviderCreate] = crud.Resource(
    name="provider",
    model=Provider,
    create_schema=ProviderCreate,
    check=_check_provider,
    json_fields=("address",),
)
FACILITIES: crud.Resource[Facility, FacilityCreate] = crud.Resource(
    name="facility", model=Facility, create_schema=FacilityCreate, json_fields=("address",)
)
FEE_SCHEDULES: crud.Resource[FeeSchedule, FeeScheduleCreate] = crud.Resource(
    name="fee_schedule",
    model=FeeSchedule,
    create_schema=FeeScheduleCreate,
    check=_check_fee_schedule,
    json_fields=("items",),
)


class TradingPartnerNameTaken(Conflict):
    code = "trading-partner-name-taken"


def _check_partner(
    session: Session, actor: Principal, data: TradingPartnerCreate, row: Any
) -> None:
    other = session.exec(
        select(TradingPartner).where(
            TradingPartner.organization_id == actor.organization_id,
            TradingPartner.name == data.name,
        )
    ).first()
    if other is not None and (row is None or other.id != row.id):
        raise TradingPartnerNameTaken(f"A trading partner is named {data.name!r} already.")


TRADING_PARTNERS: crud.Resource[TradingPartner, TradingPartnerCreate] = crud.Resource(
    name="trading_partner",
    model=TradingPartner,
    create_schema=TradingPartnerCreate,
    check=_check_partner,
)


def fee_for(
    session: Session,
    organization_id: str,
    *,
    code_system: str,
    code: str,
    modifier: str | None,
    payer_id: str | None,
    on: date,
) -> Decimal | None:
    """The charge for a code on a date: the payer's own schedule first, then the default one.

    An exact modifier match wins over the unmodified code.
    """
    schedules = session.exec(
        select(FeeSchedule).where(
            FeeSchedule.organization_id == organization_id,
            col(FeeSchedule.deleted_at).is_(None),
            col(FeeSchedule.effective_from) <= on,
        )
    ).all()
    in_force = [s for s in schedules if s.effective_to is None or s.effective_to >= on]
    ordered = sorted(in_force, key=lambda s: (s.payer_id != payer_id or payer_id is None, s.id))
    for schedule in ordered:
        if schedule.payer_id not in (None, payer_id):
            continue
        for wanted in (modifier, None) if modifier else (None,):
            for item in schedule.items:
                if (
                    item["code_system"] == code_system
                    and item["code"].upper() == code.upper()
                    and item.get("modifier") == wanted
                ):
                    return Decimal(str(item["charge"]))
    return None
