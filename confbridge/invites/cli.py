"""``confbridge mail …``: deliver the outbox now, show its state, run the worker in the foreground."""

from __future__ import annotations

import threading

import click
from sqlalchemy import func, select

from confbridge.db import make_engine, make_session_factory
from confbridge.i18n import N_, cli_text
from confbridge.invites.models import OutboxMessage


def register(main: click.Group) -> None:
    from confbridge.cli_context import get_runtime, get_settings

    @main.group("mail")
    def mail() -> None:
        """Invitation e-mail outbox."""

    @mail.command("send-pending")
    @click.pass_context
    def send_pending(ctx: click.Context) -> None:
        """Send every due message now."""
        from confbridge.invites.outbox import deliver_due

        runtime = get_runtime(ctx)
        report = deliver_due(runtime.session_factory, runtime.settings)
        click.echo(cli_text(N_("đã gửi: %(sent)s; thử lại sau: %(retrying)s; thất bại: %(failed)s"),
                            sent=len(report.sent), retrying=len(report.retrying), failed=len(report.failed)))

    @mail.command("status")
    @click.pass_context
    def status(ctx: click.Context) -> None:
        """Messages per status."""
        settings = get_settings(ctx)
        engine = make_engine(settings.database.url)
        try:
            with make_session_factory(engine)() as session:
                rows = session.execute(
                    select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                ).all()
        finally:
            engine.dispose()
        for state, count in sorted(rows):
            click.echo(f"{state}: {count}")

    @mail.command("worker")
    @click.pass_context
    def worker(ctx: click.Context) -> None:
        """Run the outbox worker in the foreground (Ctrl-C stops it)."""
        from confbridge.invites.worker import run_outbox_worker

        runtime = get_runtime(ctx, "mail-worker")
        stop = threading.Event()
        try:
            run_outbox_worker(runtime.settings, stop, session_factory=runtime.session_factory)
        except KeyboardInterrupt:
            stop.set()
