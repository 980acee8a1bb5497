"""The `backoffice` command line: serve, migrate, init."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from service import demo as demo_data
from service import demo_remittances as remittance_demo
from service import migrate as migrations
from service.auth import logic as auth_logic
from service.auth import repository as auth_repository
from service.claims import cli as claims_cli
from service.codesets import cli as codesets_cli
from service.codesets import loader as codeset_loader
from service.codesets import logic as codeset_logic
from service.db import engine_for, session_factory_for, session_scope
from service.settings import get_settings

app = typer.Typer(help="Back office service for medical and dental clinics.", no_args_is_help=True)
app.add_typer(codesets_cli.app, name="codesets")
app.add_typer(claims_cli.claims_app, name="claims")
app.add_typer(claims_cli.x12_app, name="x12")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the API (uvicorn)."""
    uvicorn.run(
        "service.main:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,
    )


@app.command()
def migrate() -> None:
    """Bring the database schema to the newest migration and load the bundled code sets."""
    engine = engine_for(get_settings())
    try:
        migrations.upgrade(engine)
        typer.echo(f"database at revision {migrations.current_revision(engine)}", err=True)
        with session_scope(session_factory_for(engine)) as session:
            loaded = codeset_loader.load_bundled(session)
        typer.echo(f"loaded {len(loaded)} bundled code set versions", err=True)
    finally:
        engine.dispose()


@app.command()
def init(
    org: Annotated[str, typer.Option("--org", help="Name of the new organization.")],
    time_zone: Annotated[str, typer.Option(help="IANA time zone of the organization.")] = (
        "America/New_York"
    ),
    if_absent: Annotated[
        bool, typer.Option(help="Do nothing (exit 0) when the organization exists.")
    ] = False,
) -> None:
    """Create an organization with an admin user; prints the admin's API key on the last line."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        typer.echo(f"unknown time zone {time_zone!r}", err=True)
        raise typer.Exit(2) from None
    engine = engine_for(get_settings())
    try:
        with session_scope(session_factory_for(engine)) as session:
            if auth_repository.get_organization_by_name(session, org) is not None:
                typer.echo(f"organization {org!r} exists already", err=True)
                raise typer.Exit(0 if if_absent else 1)
            organization, admin, key = auth_logic.create_organization(
                session, name=org, time_zone=time_zone
            )
    finally:
        engine.dispose()
    typer.echo(f"organization {organization.name} ({organization.id}), admin user {admin.id}")
    typer.echo("API key for the admin (shown once, store it now):")
    typer.echo(key)


@app.command()
def demo(
    remittances: Annotated[
        bool,
        typer.Option(
            "--remittances",
            help="Also batch the demo claims and write the matching 999, 277CA and 835 files.",
        ),
    ] = False,
    folder: Annotated[
        Path, typer.Option(help="Where --remittances writes its files.")
    ] = remittance_demo.DEFAULT_FOLDER,
) -> None:
    """Seed (or top up) the organization `demo`; prints a fresh admin key on the last line."""
    engine = engine_for(get_settings())
    paths: list[Path] = []
    secondary: str | None = None
    try:
        factory = session_factory_for(engine)
        with session_scope(factory) as session:
            result = demo_data.seed(session)
        if remittances:
            with session_scope(factory) as session:
                paths, secondary = remittance_demo.write_demo_remittances(
                    session,
                    result.organization_id,
                    folder,
                    numbers_factory=factory,
                    now=datetime.now(UTC),
                    local_today=lambda: codeset_logic.local_date(
                        session, result.organization_id, datetime.now(UTC)
                    ),
                )
    finally:
        engine.dispose()
    made = ", ".join(f"{n} {kind}" for kind, n in sorted(result.created.items())) or "nothing new"
    typer.echo(f"organization demo ({result.organization_id}): created {made}")
    for path in paths:
        typer.echo(f"wrote {path}")
    if secondary:
        typer.echo(f"secondary claim {secondary} waits for the 835s (ready once they are uploaded)")
    typer.echo("API key for the demo admin (shown once; earlier demo keys are revoked):")
    typer.echo(result.admin_key)


if __name__ == "__main__":
    app()
