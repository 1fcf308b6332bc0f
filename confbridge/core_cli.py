"""Core commands: run, web, db upgrade, user add, demo seed."""

from __future__ import annotations

import click

from confbridge.cli import get_settings


@click.group("db")
def db_group() -> None:
    """Database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Migrate the database to the newest schema."""
    from confbridge.db import make_engine
    from confbridge.migrate import upgrade

    settings = get_settings(ctx)
    engine = make_engine(settings.database.url)
    upgrade(engine, revision)
    engine.dispose()
    click.echo(f"database at {revision}")


def register(main: click.Group) -> None:
    main.add_command(db_group)
