"""The ``commons`` command line: a Flask CLI group.

Each command that changes data is its own transaction boundary: the services it calls
flush, and it ends with :func:`commons.transaction.commit` (an import commits itself,
once per bundle).

Examples::

    commons db upgrade
    commons demo --if-empty
    commons user create alice --role admin
    commons token create alice
    commons search reindex
    commons export pages.zip --tag animation --history
    commons import pages.zip --on-conflict rename
    commons territories refresh
    commons run
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup
from flask_babel import gettext as _
from flask_babel import ngettext

from . import transaction
from .errors import CommonsError
from .extensions import db


def _create_app() -> Flask:
    from . import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def main() -> None:
    """commons: a knowledge-commons wiki."""


def fail(message: object) -> None:
    """Print ``message`` on stderr and exit with status 1."""
    click.echo(click.style(str(message), fg="red"), err=True)
    sys.exit(1)


def init_app(app: Flask) -> None:
    app.cli.add_command(user_group)
    app.cli.add_command(token_group)
    app.cli.add_command(demo_command)
    app.cli.add_command(check_command)
    app.cli.add_command(search_group)
    app.cli.add_command(export_command)
    app.cli.add_command(import_command)
    app.cli.add_command(territories_group)
    app.cli.add_command(import_yeswiki_command)
    app.cli.add_command(import_mediawiki_command)
    from . import cli_background

    cli_background.init_app(app.cli)


@click.group("user")
def user_group() -> None:
    """Manage accounts."""


@user_group.command("create")
@click.argument("name")
@click.option(
    "--role",
    default="member",
    show_default=True,
    type=click.Choice(["reader", "member", "editor", "admin"]),
)
@click.option("--email", default=None)
@click.password_option(
    envvar="COMMONS_NEW_PASSWORD", help="Asked for when not given (or set COMMONS_NEW_PASSWORD)."
)
def user_create(name: str, role: str, email: str | None, password: str) -> None:
    """Create an account. Example: commons user create alice --role admin"""
    from . import auth

    try:
        user = auth.create_user(name, password, role=role, email=email)
    except CommonsError as error:
        fail(error.message)
    transaction.commit()
    click.echo(f"{user.name} ({user.role})")


@user_group.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(["reader", "member", "editor", "admin"]))
def user_role(name: str, role: str) -> None:
    """Change a user's role. Example: commons user role alice editor"""
    from . import auth

    user = auth.find_user(name)
    if user is None:
        fail(_("There is no user named “%(name)s”.", name=name))
    auth.set_role(user, role)
    transaction.commit()
    click.echo(f"{user.name} ({user.role})")


@click.group("token")
def token_group() -> None:
    """Manage API tokens."""


@token_group.command("create")
@click.argument("name")
@click.option("--name", "--label", "label", default="cli", help="What the token is for.")
@click.option(
    "--scope",
    default="write",
    show_default=True,
    type=click.Choice(["read", "write"]),
    help="read: GET requests only; write: also changes.",
)
def token_create(name: str, label: str, scope: str) -> None:
    """Create an API token for user NAME and print it (shown once)."""
    from . import auth

    user = auth.find_user(name)
    if user is None:
        fail(_("There is no user named “%(name)s”.", name=name))
    try:
        secret = auth.create_token(user, label, scope)
    except CommonsError as error:
        fail(error.message)
    transaction.commit()
    click.echo(secret)


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Only when the wiki has no page yet.")
def demo_command(if_empty: bool) -> None:
    """Load the demo content (French pages of each kind, linked together)."""
    from . import demo

    if if_empty and not demo.is_empty():
        click.echo(_("The wiki already has pages: demo content not loaded."))
        return
    created = demo.load()
    transaction.commit()
    click.echo(ngettext("%(num)s demo page loaded.", "%(num)s demo pages loaded.", created))


@click.command("check")
def check_command() -> None:
    """Check the stored history (current revisions, numbering, parents, hashes) and files.

    Exits with status 1 and lists the problems when any is found.
    """
    from . import integrity

    problems = integrity.check()
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        fail(ngettext("%(num)s problem found.", "%(num)s problems found.", len(problems)))
    click.echo(_("The history is consistent."))


@click.group("search")
def search_group() -> None:
    """Manage the search index."""


@search_group.command("reindex")
def search_reindex() -> None:
    """Rebuild the search index from the database."""
    from . import search

    bar, progress = _progress_bar(_("Indexing"))
    with bar:
        count = search.reindex(progress=progress)
    click.echo(ngettext("%(num)s page indexed.", "%(num)s pages indexed.", count))


def _progress_bar(label: str) -> Any:
    """A click progress bar and a ``progress(done, total)`` callback that moves it."""
    bar = click.progressbar(length=1, label=label)

    def progress(done: int, total: int) -> None:
        bar.length = max(total, 1)
        bar.update(done - bar.pos)

    return bar, progress


@click.command("export")
@click.argument("out", type=click.Path(dir_okay=False, writable=True))
@click.option("--slug", default=None, help="Export this page.")
@click.option("--tag", default=None, help="Export the pages with this tag.")
@click.option(
    "--kind",
    default=None,
    type=click.Choice(["tool", "experiment", "synthesis", "page"]),
    help="Export the pages of this kind.",
)
@click.option("--query", default=None, help="Export the results of this search.")
@click.option("--all", "everything", is_flag=True, help="Export every page.")
@click.option("--history", is_flag=True, help="Include every revision's text.")
@click.option(
    "--base-url",
    envvar="COMMONS_BASE_URL",
    default=None,
    help="This commons' public address, for links and attribution (or COMMONS_BASE_URL).",
)
def export_command(
    out: str,
    slug: str | None,
    tag: str | None,
    kind: str | None,
    query: str | None,
    everything: bool,
    history: bool,
    base_url: str | None,
) -> None:
    """Write a bundle of pages to OUT (a .zip). Example: commons export all.zip --all --history"""
    from . import bundles

    selection = bundles.Selection(
        slug=slug, tag=tag, kind=kind, query=query, everything=everything, history=history
    )
    # Written next to OUT and moved into place at the end: a failed export leaves no
    # half-written bundle behind.
    partial = f"{out}.partial"
    bar, progress = _progress_bar("Exporting")
    try:
        with bar, open(partial, "wb") as handle:
            result = bundles.export_bundle(handle, selection, base_url=base_url, progress=progress)
        os.replace(partial, out)
    except CommonsError as error:
        fail(error.message)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    click.echo(
        _(
            "%(pages)s pages (%(revisions)s revisions) exported to %(path)s.",
            pages=result.pages,
            revisions=result.revisions,
            path=out,
        )
    )
    if result.media:
        click.echo(
            ngettext(
                "%(num)s file shown by these pages is in the bundle.",
                "%(num)s files shown by these pages are in the bundle.",
                result.media,
            )
        )


@click.command("import")
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option(
    "--on-conflict",
    default="skip",
    show_default=True,
    type=click.Choice(["skip", "rename", "merge"]),
    help="What to do when a page already exists at the same address.",
)
def import_command(bundle: str, on_conflict: str) -> None:
    """Import a bundle; nothing changes when anything in it is wrong.

    Example: commons import pages.zip --on-conflict rename
    """
    from . import bundles

    bar, progress = _progress_bar(_("Checking and importing"))
    try:
        with bar, open(bundle, "rb") as handle:
            report = bundles.import_bundle(handle, on_conflict=on_conflict, progress=progress)
    except CommonsError as error:
        fail(error.message)
    for item in report.created:
        click.echo(_("created: %(slug)s", slug=item.slug) + _renamed(item.original_slug))
    for item in report.merged:
        click.echo(_("merged: %(slug)s", slug=item.slug))
    for item in report.skipped:
        click.echo(_("skipped: %(slug)s (%(reason)s)", slug=item.slug, reason=item.reason))
    for media_item in report.media_created:
        click.echo(
            _("file created: %(name)s", name=media_item.name) + _renamed(media_item.original_name)
        )
    for media_item in report.media_merged:
        click.echo(_("file merged: %(name)s", name=media_item.name))
    for media_item in report.media_skipped:
        click.echo(
            _(
                "file skipped: %(name)s (%(reason)s)",
                name=media_item.name,
                reason=media_item.reason,
            )
        )
    click.echo(
        _(
            "%(created)s created, %(merged)s merged, %(skipped)s skipped.",
            created=len(report.created),
            merged=len(report.merged),
            skipped=len(report.skipped),
        )
    )
    if report.media_created or report.media_merged or report.media_skipped:
        click.echo(
            _(
                "Files: %(created)s created, %(merged)s merged, %(skipped)s skipped.",
                created=len(report.media_created),
                merged=len(report.media_merged),
                skipped=len(report.media_skipped),
            )
        )


@click.command("import-yeswiki")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--prefix", default="yeswiki_", show_default=True, help="The tables' prefix.")
@click.option(
    "--files",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="The site's files/ folder, when PATH is a .sql dump.",
)
@click.option(
    "--timezone",
    default="Europe/Paris",
    show_default=True,
    help="The time zone of the dates YesWiki stored.",
)
@click.option("--license", "license_", default="CC-BY-SA-4.0", show_default=True)
@click.option(
    "--site-url",
    default=None,
    help="The site's address as its pages' start, e.g. https://exemple.org/? : each "
    "imported page then names its original address.",
)
@click.option("--dry-run", is_flag=True, help="Print the report and write nothing.")
def import_yeswiki_command(
    path: str,
    prefix: str,
    files: str | None,
    timezone: str,
    license_: str,
    site_url: str | None,
    dry_run: bool,
) -> None:
    """Import a YesWiki site with its history and authors; nothing changes on error.

    PATH is the backup zip of YesWiki's administration page, or a .sql dump with --files.
    Example: commons import-yeswiki sauvegarde.zip --dry-run
    """
    from .imports.yeswiki import read_yeswiki

    bar, progress = _progress_bar(_("Reading"))
    try:
        with bar:
            site = read_yeswiki(
                path,
                prefix=prefix,
                files=files,
                timezone=timezone,
                license=license_,
                site_url=site_url,
                progress=progress,
            )
    except CommonsError as error:
        fail(error.message)
    _import_from_plan(
        site,
        dry_run,
        path,
        {
            "prefix": prefix,
            "files": files,
            "timezone": timezone,
            "license": license_,
            "site_url": site_url,
        },
    )


@click.command("import-mediawiki")
@click.argument("dump", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--license", "license_", default="CC-BY-SA-4.0", show_default=True)
@click.option("--dry-run", is_flag=True, help="Print the report and write nothing.")
def import_mediawiki_command(dump: str, license_: str, dry_run: bool) -> None:
    """Import a MediaWiki XML dump with its history and authors; nothing changes on error.

    Example: commons import-mediawiki export.xml --dry-run
    """
    from .imports.mediawiki import read_mediawiki

    try:
        site = read_mediawiki(dump, license=license_)
    except CommonsError as error:
        fail(error.message)
    _import_from_plan(site, dry_run, dump, {"license": license_})


def _import_from_plan(site: Any, dry_run: bool, path: str, options: dict[str, Any]) -> None:
    """Print what ``site`` (an import plan) brings; unless ``dry_run``, import it."""
    from . import transaction
    from .imports import plan as import_plan

    for line in import_plan.describe(site):
        click.echo(line)
    if dry_run:
        for slug in import_plan.existing(site):
            click.echo(_("already here, would be left alone: %(slug)s", slug=slug))
        click.echo(_("Dry run: nothing was written."))
        return
    if not site.pages and not site.media:
        fail(_("Nothing to import."))
    bar, progress = _progress_bar(_("Importing"))
    try:
        with bar:
            report = import_plan.apply(site, progress=progress)
        transaction.commit()
    except CommonsError as error:
        transaction.rollback()
        fail(error.message)
    record = import_plan.write_record(site, report, path=path, options=options)
    for item in report.created:
        click.echo(_("created: %(slug)s", slug=item.slug))
    for item in report.skipped:
        click.echo(_("skipped: %(slug)s (%(reason)s)", slug=item.slug, reason=item.reason))
    click.echo(
        _(
            "%(created)s pages created (%(revisions)s revisions), %(skipped)s already here; "
            "%(files)s files created, %(files_skipped)s already here.",
            created=len(report.created),
            revisions=report.revisions,
            skipped=len(report.skipped),
            files=len(report.media_created),
            files_skipped=len(report.media_skipped),
        )
    )
    click.echo(_("Import record: %(path)s", path=str(record)))


def _renamed(original: str | None) -> str:
    """Says the address or name a page or file had in the bundle."""
    return _(" (was %(slug)s)", slug=original) if original else ""


__all__ = ["main", "db"]


@click.group("territories")
def territories_group() -> None:
    """The list of French régions, départements and communes."""


@territories_group.command("refresh")
@click.option(
    "--package",
    "package_path",
    type=click.Path(exists=True, dir_okay=False, readable=True),
    default=None,
    help="Read this copy of the package's .tgz instead of downloading it.",
)
@click.option(
    "--version",
    default=None,
    help="The package version to download (default: the one commons was shipped with).",
)
def territories_refresh(package_path: str | None, version: str | None) -> None:
    """Rebuild the list from Etalab's package (INSEE's Code officiel géographique).

    The new list is written to the instance folder, where it takes the place of the
    shipped one; nothing changes when the package is not the expected one.
    Example: commons territories refresh --version 6.0.0
    """
    from pathlib import Path

    from . import territories

    version = version or territories.PACKAGE_VERSION
    try:
        if package_path:
            tarball = Path(package_path).read_bytes()
        else:
            click.echo(
                _(
                    "Downloading %(package)s %(version)s…",
                    package=territories.PACKAGE,
                    version=version,
                )
            )
            tarball = territories.fetch_package(version)
    except OSError as error:
        fail(_("The package could not be read: %(error)s", error=error))
    destination = territories.refreshed_path()
    try:
        loaded = territories.refresh(tarball, destination, version=version)
    except CommonsError as error:
        fail(error.message)
    counts = loaded.counts()
    click.echo(
        _(
            "%(regions)s régions, %(departements)s départements and %(communes)s communes "
            "written to %(path)s.",
            path=destination,
            **counts,
        )
    )
