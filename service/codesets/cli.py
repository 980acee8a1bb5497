"""`backoffice codesets`: list the loaded sets, load the bundle, import official files."""

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from service.codesets import importers, loader
from service.codesets import logic as codeset_logic
from service.db import engine_for, session_factory_for, session_scope
from service.errors import DomainError
from service.settings import get_settings

app = typer.Typer(help="Code sets: list, load the bundled sets, import official files.")


@app.command("list")
def list_sets() -> None:
    """Every loaded set version with its dates, row count and origin."""
    engine = engine_for(get_settings())
    try:
        with session_scope(session_factory_for(engine)) as session:
            versions = codeset_logic.list_versions(session)
    finally:
        engine.dispose()
    if not versions:
        typer.echo("no code sets loaded; run `backoffice migrate`", err=True)
        return
    typer.echo(f"{'set':<24}{'version':<10}{'from':<12}{'to':<12}{'rows':>8}  origin")
    for v in versions:
        end = str(v.effective_to) if v.effective_to else "-"
        typer.echo(
            f"{v.system:<24}{v.version:<10}{v.effective_from!s:<12}{end:<12}"
            f"{v.row_count:>8}  {v.origin}"
        )


@app.command("load")
def load() -> None:
    """Load the bundled sets not loaded yet (`backoffice migrate` does this too)."""
    engine = engine_for(get_settings())
    try:
        with session_scope(session_factory_for(engine)) as session:
            loaded = loader.load_bundled(session)
    finally:
        engine.dispose()
    typer.echo(f"loaded {len(loaded)} bundled code set versions", err=True)


@app.command("import")
def import_set(
    system: Annotated[str, typer.Argument(help=f"One of: {', '.join(importers.IMPORTABLE)}.")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    version: Annotated[str, typer.Option(help="Version label, e.g. 2028 or 2026Q3.")],
    effective_from: Annotated[
        str | None, typer.Option(help="First date of service (YYYY-MM-DD).")
    ] = None,
    effective_to: Annotated[str | None, typer.Option(help="Last date of service.")] = None,
) -> None:
    """Import a customer-obtained official file as a new version (formats: codesets/README.md)."""
    try:
        start = date.fromisoformat(effective_from) if effective_from else None
        end = date.fromisoformat(effective_to) if effective_to else None
    except ValueError:
        typer.echo("dates are YYYY-MM-DD", err=True)
        raise typer.Exit(2) from None
    engine = engine_for(get_settings())
    try:
        with session_scope(session_factory_for(engine)) as session:
            created = importers.import_file(
                session, system, file, version=version, effective_from=start, effective_to=end
            )
            summary = (
                f"imported {created.system} {created.version}: {created.row_count} rows, "
                f"from {created.effective_from}"
            )
    except DomainError as error:
        typer.echo(error.detail, err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    typer.echo(summary)
