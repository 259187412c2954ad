"""The ``commons`` command line: a Flask CLI group.

Examples::

    commons db upgrade
    commons demo --if-empty
    commons user create alice --role admin
    commons token create alice
    commons search reindex
    commons run
"""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import FlaskGroup

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
    click.echo(f"{user.name} ({user.role})")


@user_group.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(["reader", "member", "editor", "admin"]))
def user_role(name: str, role: str) -> None:
    """Change a user's role. Example: commons user role alice editor"""
    from . import auth

    user = auth.find_user(name)
    if user is None:
        fail(f"No user named {name!r}.")
    auth.set_role(user, role)
    click.echo(f"{user.name} ({user.role})")


@click.group("token")
def token_group() -> None:
    """Manage API tokens."""


@token_group.command("create")
@click.argument("name")
@click.option("--label", default="cli", help="What the token is for.")
def token_create(name: str, label: str) -> None:
    """Create an API token for user NAME and print it (shown once)."""
    from . import auth

    user = auth.find_user(name)
    if user is None:
        fail(f"No user named {name!r}.")
    click.echo(auth.create_token(user, label))


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Only when the wiki has no page yet.")
def demo_command(if_empty: bool) -> None:
    """Load the demo content (French pages of each kind, linked together)."""
    from . import demo

    if if_empty and not demo.is_empty():
        click.echo("The wiki already has pages: demo content not loaded.")
        return
    created = demo.load()
    click.echo(f"{created} demo pages loaded.")


@click.command("check")
def check_command() -> None:
    """Check the stored history: current revisions, numbering, parents and hashes.

    Exits with status 1 and lists the problems when any is found.
    """
    from . import integrity

    problems = integrity.check()
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        fail(f"{len(problems)} problems found.")
    click.echo("The history is consistent.")


@click.group("search")
def search_group() -> None:
    """Manage the search index."""


@search_group.command("reindex")
def search_reindex() -> None:
    """Rebuild the search index from the database."""
    from . import search

    with click.progressbar(length=1, label="Indexing") as bar:
        state = {"total": None}

        def progress(done: int, total: int) -> None:
            if state["total"] != total:
                bar.length = max(total, 1)
                state["total"] = total
            bar.update(done - bar.pos)

        count = search.reindex(progress=progress)
    click.echo(f"{count} pages indexed.")


__all__ = ["main", "db"]
