"""Commands for mail and background work: ``commons mail test``, ``commons worker``,
``commons digest send``."""

from __future__ import annotations

import click
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from . import jobs, mail, notifications, transaction


def init_app(app: click.Group) -> None:
    app.add_command(mail_group)
    app.add_command(worker_command)
    app.add_command(digest_group)


@click.group("mail")
def mail_group() -> None:
    """Outgoing mail."""


@mail_group.command("test")
@click.argument("address")
@click.option("--locale", default=None, help="Language of the message (default: the wiki's).")
def mail_test(address: str, locale: str | None) -> None:
    """Send a test message to ADDRESS, to check COMMONS_SMTP_URL."""
    subject, text, html = mail.render(
        "test", locale or current_app.config["DEFAULT_LOCALE"], _l("Test message")
    )
    mail.send(mail.compose(to=address, subject=subject, text=text, html=html))
    transaction.commit()
    jobs.wait()
    if mail.uses_outbox():
        click.echo(
            _(
                "No SMTP server is configured: the message is in %(folder)s.",
                folder=current_app.config["OUTBOX_DIR"],
            )
        )
    else:
        click.echo(_("Message handed to the job queue for %(address)s.", address=address))


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker_command(burst: bool) -> None:
    """Run a job worker on Redis (needs COMMONS_REDIS_URL)."""
    if not current_app.config.get("REDIS_URL"):
        raise click.UsageError(
            _("COMMONS_REDIS_URL is not set: jobs run inside the wiki's own process.")
        )
    jobs.work(burst=burst)


@click.group("digest")
def digest_group() -> None:
    """Notification digests."""


@digest_group.command("send")
def digest_send() -> None:
    """Send the daily and weekly digests that are due (run it from cron, e.g. hourly)."""
    count = notifications.send_digests()
    transaction.commit()
    jobs.wait()
    click.echo(
        ngettext(
            "Pending notifications looked at for %(num)s account.",
            "Pending notifications looked at for %(num)s accounts.",
            count,
        )
    )
