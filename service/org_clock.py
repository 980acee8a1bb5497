"""The organization's clock: its IANA time zone turns stored UTC instants into the local dates
and times staff see and the files carry (dates of service, labels, worklist names, ISA/GS,
report dates), and plain query dates into instants. The one owner of that zone: nothing else
reads `organization.time_zone`."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session

from service.auth import repository as auth_repository
from service.errors import FieldError, InvalidInput

DEFAULT_TIME_ZONE = "America/New_York"


class InvalidTimeZone(InvalidInput):
    code = "invalid-time-zone"


def parse_zone(name: str, pointer: str = "/time_zone") -> ZoneInfo:
    """An IANA zone name ("America/Chicago") or a 422 naming it."""
    try:
        if not name or name.startswith("/") or ".." in name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidTimeZone(
            f"{name!r} is not an IANA time zone (like America/Chicago).",
            errors=[FieldError(pointer, "not an IANA time zone, e.g. America/Chicago")],
        ) from None


def zone(session: Session, organization_id: str) -> ZoneInfo:
    """The organization's zone, read once per transaction (a bundle or a job that stamps many
    records asks again and again)."""
    transaction = session.get_transaction()
    held = session.info.get("org_clock.zones")
    if held is None or held[0] is not transaction:
        held = session.info["org_clock.zones"] = (transaction, {})
    zones: dict[str, ZoneInfo] = held[1]
    if organization_id not in zones:
        name = auth_repository.get_time_zone(session, organization_id) or "UTC"
        try:
            zones[organization_id] = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidTimeZone(f"The organization's time zone {name!r} is unknown.") from None
    return zones[organization_id]


def forget(session: Session) -> None:
    """After the zone changed in this transaction."""
    session.info.pop("org_clock.zones", None)


def local_time(session: Session, organization_id: str, at: datetime) -> datetime:
    """`at` on the organization's wall clock (aware, with its offset). A naive `at` is taken as
    a wall-clock time already (a job or test that states the local time it means)."""
    if at.tzinfo is None:
        return at.replace(tzinfo=zone(session, organization_id))
    return at.astimezone(zone(session, organization_id))


def local_date(session: Session, organization_id: str, at: datetime) -> date:
    """`at` as a date in the organization's time zone: a date of service, "today"."""
    return local_time(session, organization_id, at).date()


def local_date_in(time_zone: str, at: datetime) -> date:
    """`at` as a date in a zone read with the caller's key (service/api/deps.py, CallerGuard);
    a name ZoneInfo does not know is refused as `zone` refuses it."""
    try:
        return at.astimezone(ZoneInfo(time_zone)).date()
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidTimeZone(f"The organization's time zone {time_zone!r} is unknown.") from None


def start_of_day(session: Session, organization_id: str, day: date) -> datetime:
    """Local midnight of `day` as a UTC instant (a plain `from=2026-12-01` in a query)."""
    local = datetime.combine(day, time(0), tzinfo=zone(session, organization_id))
    return local.astimezone(UTC)


def set_time_zone(session: Session, organization_id: str, name: str) -> str:
    """An admin moves the clinic's clock (PATCH /api/v1/organization): dates written from now
    on use the new zone; dates already stored (dates of service, batches) stay as they were."""
    parse_zone(name)
    organization = auth_repository.get_organization(session, organization_id)
    assert organization is not None  # the caller's own organization
    previous = organization.time_zone
    organization.time_zone = name
    session.add(organization)
    session.flush()
    forget(session)
    return previous
