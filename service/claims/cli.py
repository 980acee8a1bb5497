"""`backoffice claims batch` (the nightly job) and `backoffice x12 validate` (pyx12 for a clerk)."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import select

from service import blobs, org_clock
from service.auth import repository as auth_repository
from service.auth.logic import Principal
from service.auth.models import AppUser
from service.claims import batches
from service.claims.models import ClaimBatchChunk
from service.db import engine_for, session_factory_for, session_scope
from service.directory.models import TradingPartner
from service.errors import DomainError
from service.settings import get_settings
from service.x12.validate import validate_x12

claims_app = typer.Typer(help="Claims: batch the ready claims into an X12 file.")
x12_app = typer.Typer(help="X12 files: check one with pyx12.")


@claims_app.command("batch")
def batch(
    org: Annotated[str, typer.Option("--org", help="Organization name.")],
    partner: Annotated[str, typer.Option("--partner", help="Trading partner name.")],
    claim_type: Annotated[str, typer.Option("--type", help="professional or dental.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the X12 file.")],
) -> None:
    """Batch every clean ready claim of the type for the partner and write the file."""
    if claim_type not in batches.KINDS:
        typer.echo("--type is professional or dental", err=True)
        raise typer.Exit(2)
    engine = engine_for(get_settings())
    factory = session_factory_for(engine)
    try:
        with session_scope(factory) as session:
            organization = auth_repository.get_organization_by_name(session, org)
            if organization is None:
                typer.echo(f"no organization {org!r}", err=True)
                raise typer.Exit(1)
            found = session.exec(
                select(TradingPartner).where(
                    TradingPartner.organization_id == organization.id,
                    TradingPartner.name == partner,
                )
            ).first()
            if found is None:
                typer.echo(f"no trading partner {partner!r} in {org!r}", err=True)
                raise typer.Exit(1)
            # The job acts as the organization's first admin, so the audit trail names someone.
            admin = session.exec(
                select(AppUser)
                .where(AppUser.organization_id == organization.id)
                .order_by(AppUser.id)
            ).first()
            assert admin is not None
            actor = Principal(admin.id, organization.id, frozenset({"admin"}), "cli", "cli")
            now = datetime.now(UTC)
            try:
                made = batches.build_claim_batch(
                    session,
                    actor,
                    batches.BatchRequest(found.id, claim_type),
                    numbers_factory=factory,
                    at=now,
                    today=org_clock.local_date(session, organization.id, now),
                )
            except batches.NoClaimsReady as error:
                typer.echo(error.detail, err=True)
                raise typer.Exit(0) from None
            except DomainError as error:
                typer.echo(error.detail, err=True)
                raise typer.Exit(1) from None
            batch_id = made.id
            summary = f"{made.claim_count} claims, ${made.total_charge}, ISA13 "
            summary += f"{made.interchange_control_number}, sha256 {made.sha256}"
        with factory() as session, out.open("wb") as handle:
            for chunk in blobs.chunks(session, ClaimBatchChunk, "batch_id", batch_id):
                handle.write(chunk)
    finally:
        engine.dispose()
    typer.echo(f"batch {batch_id}: {summary} -> {out}")


@x12_app.command("validate")
def validate(
    file: Annotated[Path, typer.Argument(help="The X12 file.", exists=True, dir_okay=False)],
    map_dir: Annotated[
        Path | None,
        typer.Option(help="Folder with the 837D map (default ../shared/x12/pyx12-maps)."),
    ] = None,
) -> None:
    """Runs pyx12 on the file; exits 0 when it has no errors, 1 otherwise."""
    result = validate_x12(file, map_dir)
    for error in result.errors:
        typer.echo(error)
    typer.echo("valid" if result.ok else f"{len(result.errors)} error(s)")
    raise typer.Exit(0 if result.ok else 1)
