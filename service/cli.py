"""The `backoffice` command line: serve, migrate, init."""

import importlib.util
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn

from service import migrate as migrations
from service import org_clock, secret_box
from service.audit import logic as audit_logic
from service.auth import logic as auth_logic
from service.auth import repository as auth_repository
from service.auth import totp
from service.claims import cli as claims_cli
from service.codesets import cli as codesets_cli
from service.codesets import loader as codeset_loader
from service.db import engine_for, session_factory_for, session_scope
from service.demo import clinic as demo_data
from service.demo import remittances as remittance_demo
from service.errors import NotFound
from service.settings import get_settings

app = typer.Typer(help="Back office service for medical and dental clinics.", no_args_is_help=True)
app.add_typer(codesets_cli.app, name="codesets")
app.add_typer(claims_cli.claims_app, name="claims")
app.add_typer(claims_cli.x12_app, name="x12")
users_app = typer.Typer(help="Users of an organization (recovery).", no_args_is_help=True)
app.add_typer(users_app, name="users")
audit_app = typer.Typer(help="The deployment's own audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


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
        **uvicorn_options(),
    )


def uvicorn_options() -> dict[str, Any]:
    """uvicorn settings `serve` uses (bench/bench_http_wrk.py serves its bare route with them).

    httptools parses HTTP in C and uvloop runs the event loop in C (both pinned dependencies;
    h11 and asyncio when missing). Kept-alive connections idle for 30 s before uvicorn closes
    them, longer than the 5 s default, so that a client or proxy reusing its connections between
    a clerk's clicks does not reconnect (a load balancer's idle timeout should be longer still).
    With --workers, uvicorn kills a worker that does not answer its health ping within
    5 s by default: a worker building its code search indexes on a loaded machine did not, and
    was restarted over and over. 60 s.
    """
    return {
        "access_log": False,
        "http": "httptools" if importlib.util.find_spec("httptools") else "h11",
        "loop": "uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        "timeout_keep_alive": 30,
        "timeout_worker_healthcheck": 60,
    }


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
    time_zone: Annotated[
        str,
        typer.Option(
            help="IANA time zone of the organization (local dates, labels, 837 ISA/GS times); "
            "an admin changes it later with PATCH /api/v1/organization."
        ),
    ] = org_clock.DEFAULT_TIME_ZONE,
    if_absent: Annotated[
        bool, typer.Option(help="Do nothing (exit 0) when the organization exists.")
    ] = False,
) -> None:
    """Create an organization with an admin user; prints the admin's API key on the last line."""
    try:
        org_clock.parse_zone(time_zone)
    except org_clock.InvalidTimeZone:
        typer.echo(f"unknown time zone {time_zone!r}", err=True)
        raise typer.Exit(2) from None
    engine = engine_for(get_settings())
    try:
        with session_scope(session_factory_for(engine)) as session:
            if (existing := auth_repository.get_organization_by_name(session, org)) is not None:
                typer.echo(
                    f"organization {org!r} exists already (time zone {existing.time_zone}; "
                    "an admin changes it with PATCH /api/v1/organization)",
                    err=True,
                )
                raise typer.Exit(0 if if_absent else 1)
            organization, admin, key = auth_logic.create_organization(
                session, name=org, time_zone=time_zone
            )
    finally:
        engine.dispose()
    typer.echo(f"organization {organization.name} ({organization.id}), admin user {admin.id}")
    typer.echo("API key for the admin (shown once, store it now):")
    typer.echo(key)


@users_app.command("create-admin")
def create_admin(
    org: Annotated[str, typer.Option("--org", help="Name of the organization.")],
) -> None:
    """A new admin user with a key, for an organization with no admin left; prints the key on
    the last line. Local access to the deployment is the authority: there is no API for it."""
    engine = engine_for(get_settings())
    try:
        with session_scope(session_factory_for(engine)) as session:
            try:
                admin, key = auth_logic.create_recovery_admin(session, org)
            except auth_logic.OrganizationNotFound as exc:
                typer.echo(exc.detail, err=True)
                raise typer.Exit(1) from None
            audit_logic.record_system(
                session,
                organization_id=admin.organization_id,
                action="create",
                resource_type="user",
                resource_id=admin.id,
                detail="recovery admin created by backoffice users create-admin",
            )
    finally:
        engine.dispose()
    typer.echo(f"admin user {admin.id} of {org}")
    typer.echo("API key for the admin (shown once, store it now):")
    typer.echo(key)


@app.command("secrets-key")
def secrets_key() -> None:
    """Print a new secrets key (a Fernet key) for BACKOFFICE_SECRETS_KEY or the key file. To
    rotate, set `new,old`: secrets are sealed again under the new key as they are used."""
    typer.echo(secret_box.new_key())


@users_app.command("reset-two-step")
def reset_two_step(
    username: Annotated[str, typer.Option("--username", help="Who signs in with it.")],
) -> None:
    """Turn two-step sign-in off for a person who cannot finish signing in (the secrets key or
    their authenticator lost): the password alone signs them in again. Audited."""
    engine = engine_for(get_settings())
    try:
        with session_scope(session_factory_for(engine)) as session:
            try:
                user = totp.reset(session, username, at=datetime.now(UTC))
            except NotFound as exc:
                typer.echo(exc.detail, err=True)
                raise typer.Exit(1) from None
            audit_logic.record_system(
                session,
                organization_id=user.organization_id,
                action="update",
                resource_type="user",
                resource_id=user.id,
                detail="two-step sign-in turned off by backoffice users reset-two-step",
            )
    finally:
        engine.dispose()
    typer.echo(f"two-step sign-in is off for user {user.id}; the password alone signs in")


@audit_app.command("system-log")
def system_log(
    limit: Annotated[int, typer.Option(help="How many events, newest first.")] = 100,
) -> None:
    """Events that belong to no organization: refused keys that named none (unknown key ids,
    malformed or missing keys) and the blocks that repeated failures set off."""
    engine = engine_for(get_settings())
    try:
        with session_scope(session_factory_for(engine)) as session:
            events = audit_logic.list_system_events(session, limit=limit)
            lines = [
                f"{e.at.isoformat()} {e.action} {e.outcome} address={e.client_address or '-'} "
                f"request_id={e.request_id or '-'} {e.detail}"
                for e in events
            ]
    finally:
        engine.dispose()
    for line in lines:
        typer.echo(line)


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
    reset_passwords: Annotated[
        bool,
        typer.Option(
            "--reset-passwords",
            help="New one-time passwords for every demo person, even those who chose their own.",
        ),
    ] = False,
) -> None:
    """Seed (or top up) the organization `demo`; prints a fresh admin key on the last line."""
    engine = engine_for(get_settings())
    paths: list[Path] = []
    secondary: str | None = None
    unbatched = 0
    try:
        factory = session_factory_for(engine)
        with session_scope(factory) as session:
            result = demo_data.seed(session, reset_passwords=reset_passwords)
        if remittances:
            with session_scope(factory) as session:
                paths, secondary = remittance_demo.write_demo_remittances(
                    session,
                    result.organization_id,
                    folder,
                    numbers_factory=factory,
                    now=datetime.now(UTC),
                    local_today=lambda: org_clock.local_date(
                        session, result.organization_id, datetime.now(UTC)
                    ),
                )
                unbatched = remittance_demo.ready_claims_not_batched(
                    session, result.organization_id
                )
    finally:
        engine.dispose()
    made = ", ".join(f"{n} {kind}" for kind, n in sorted(result.created.items())) or "nothing new"
    typer.echo(f"organization demo ({result.organization_id}): created {made}")
    if paths:
        typer.echo("Upload in this order (999, then each payer's 277CA and 835):")
    for n, path in enumerate(paths, start=1):
        typer.echo(f"{n}. wrote {path}")
    if remittances:
        typer.echo(
            f"{unbatched} ready claim(s) in no batch yet get no files: batch them, then run "
            "`backoffice demo --remittances` again"
            if unbatched
            else "every ready claim is in a batch"
        )
    if secondary:
        typer.echo(f"secondary claim {secondary} waits for the 835s (ready once they are uploaded)")
    typer.echo("Web pages: sign in at /app/sign-in (one-time passwords, change at first sign-in):")
    for sign_in in result.sign_ins:
        password = sign_in.one_time_password or (
            "keeps the password they chose (--reset-passwords issues a new one)"
        )
        typer.echo(f"  {sign_in.who}: {sign_in.username} / {password}")
    typer.echo("API key for the demo admin (shown once; earlier demo keys are revoked):")
    typer.echo(result.admin_key)


@app.command()
def worker() -> None:
    """Deliver webhooks and FHIR notifications from the outbox until stopped (Ctrl-C).

    `backoffice serve` runs the same worker in each process; run this too (or instead, with
    BACKOFFICE_OUTBOX_WORKER=false on the servers) to deliver from a separate process."""
    from service.outbox.worker import DeliveryWorker

    settings = get_settings()
    engine = engine_for(settings)
    running = DeliveryWorker(
        session_factory_for(engine),
        poll_seconds=settings.outbox_poll_seconds,
        allow_private=settings.allow_private_webhook_addresses,
    ).start()
    typer.echo("delivering from the outbox; Ctrl-C stops", err=True)
    try:
        while running.thread.is_alive():
            running.thread.join(1.0)
    except KeyboardInterrupt:
        running.stop()
    finally:
        engine.dispose()


if __name__ == "__main__":
    app()
