"""Notifications by mail: who hears about what, when, in one mail per batch, and how to stop."""

from __future__ import annotations

import re
import time

import pytest

from commons import auth as accounts
from commons import jobs, moderation, page_moves, pages, watching
from commons.extensions import db
from commons.models import WatchTarget

from .conftest import PASSWORD

#: Services only flush: each direct call here commits, as its request would.
pytestmark = pytest.mark.usefixtures("commit_each_change")


@pytest.fixture
def mailbox(app, smtp_server):
    url, box = smtp_server
    app.config.update(SMTP_URL=url, NOTIFICATION_DELAY=0)
    return box


@pytest.fixture
def lea(app):
    """A member with an email address, who follows things."""
    return accounts.create_user("lea", PASSWORD, email="lea@example.org")


def _make(author, title="Monnaie locale", **kw):
    page = pages.save(None, title=title, body="Une monnaie.\n", author=author, **kw).page
    assert jobs.wait(30)
    return page


def _edit(page, author, body, summary=""):
    result = pages.save(page.slug, title=page.title, body=body, author=author, summary=summary)
    assert jobs.wait(30)
    return result.revision


def _text(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_a_follower_gets_a_mail_in_french_with_a_link_to_the_diff(mailbox, lea, editor):
    page = _make(editor)
    mailbox.messages.clear()  # the editor follows what they create, and made it
    watching.watch(lea, WatchTarget.PAGE, page)
    db.session.commit()
    _edit(page, editor, "Une monnaie locale.\n", summary="précisions")
    [message] = mailbox.messages
    assert message["To"] == "lea@example.org"
    assert message["Subject"] == "1 page que vous suivez a changé"
    text = _text(message)
    assert "Monnaie locale" in text and "précisions" in text and "eddy" in text
    assert f"http://localhost/wiki/{page.slug}/diff?from=1&to=2" in text
    assert (
        message["List-Unsubscribe"]
        .strip()
        .startswith("<http://localhost/notifications/unsubscribe/")
    )
    assert message.get_body(("html",)) is not None


def test_no_one_hears_about_their_own_changes(mailbox, lea, editor):
    page = _make(lea)  # lea follows it: she created it
    _edit(page, lea, "Ma propre modification.\n")
    assert mailbox.messages == []
    _edit(page, editor, "Celle d'un autre.\n")
    assert [message["To"] for message in mailbox.messages] == ["lea@example.org"]


def test_authors_can_choose_not_to_follow_what_they_create(mailbox, lea, editor):
    watching.update_settings(lea, frequency="immediate", watch_created=False)
    db.session.commit()
    page = _make(lea)
    _edit(page, editor, "Une autre.\n")
    assert mailbox.messages == []


def test_an_editing_session_makes_one_mail(app, mailbox, lea, editor):
    app.config["NOTIFICATION_DELAY"] = 2
    page = _make(editor, tags=["monnaie"])
    watching.watch(lea, WatchTarget.TAG, "monnaie")
    db.session.commit()
    for number in range(3):
        pages.save(
            page.slug, title=page.title, body=f"Version {number}.\n", author=editor, tags="monnaie"
        )
    assert jobs.wait(60)
    [message] = [m for m in mailbox.messages if m["To"] == "lea@example.org"]
    assert "3 modifications par eddy" in _text(message)
    assert f"/wiki/{page.slug}/diff?from=1&to=4" in _text(message)


def test_a_deleted_page_or_a_hidden_revision_is_not_revealed(
    app, runner, mailbox, lea, editor, admin
):
    watching.update_settings(lea, frequency="daily", watch_created=True)
    first = _make(editor, title="Première")
    second = _make(editor, title="Seconde")
    watching.watch(lea, WatchTarget.KIND, "page")
    db.session.commit()
    secret = _edit(first, editor, "Un numéro de téléphone.\n", summary="ajout du numéro")
    _edit(second, editor, "Rien de secret.\n", summary="sans secret")
    moderation.set_revision_hidden(secret, True, author=admin)
    page_moves.delete(second, author=editor)
    assert runner.invoke(args=["digest", "send"]).exit_code == 0
    assert jobs.wait(30)
    assert [m for m in mailbox.messages if m["To"] == "lea@example.org"] == []


def test_digests_gather_the_changes_of_the_period(app, runner, mailbox, lea, editor):
    watching.update_settings(lea, frequency="weekly", watch_created=True)
    one = _make(editor, title="Une")
    two = _make(editor, title="Deux")
    watching.watch(lea, WatchTarget.PAGE, one)
    watching.watch(lea, WatchTarget.PAGE, two)
    db.session.commit()
    _edit(one, editor, "Une, modifiée.\n")
    _edit(two, editor, "Deux, modifiée.\n")
    _edit(two, editor, "Deux, modifiée encore.\n")
    assert [m for m in mailbox.messages if m["To"] == "lea@example.org"] == []
    assert runner.invoke(args=["digest", "send"]).exit_code == 0
    assert jobs.wait(30)
    [digest] = [m for m in mailbox.messages if m["To"] == "lea@example.org"]
    assert digest["Subject"] == "2 pages que vous suivez ont changé"
    assert "depuis votre dernier résumé" in _text(digest)
    # Not due again before a week, even with new changes.
    _edit(one, editor, "Une, encore.\n")
    runner.invoke(args=["digest", "send"])
    assert jobs.wait(30)
    assert len([m for m in mailbox.messages if m["To"] == "lea@example.org"]) == 1


def test_the_unsubscribe_link_stops_the_mails(client, mailbox, lea, editor):
    page = _make(editor)
    watching.watch(lea, WatchTarget.PAGE, page)
    db.session.commit()
    _edit(page, editor, "Deux.\n")
    [message] = [m for m in mailbox.messages if m["To"] == "lea@example.org"]
    link = re.search(r"http://localhost(/notifications/unsubscribe/\S+)", _text(message)).group(1)
    assert client.get(link).status_code == 200
    assert watching.settings(lea).frequency == "immediate"  # a GET changes nothing
    assert client.post(link).status_code == 200
    assert watching.settings(lea).frequency == "off"
    _edit(page, editor, "Trois.\n")
    assert len([m for m in mailbox.messages if m["To"] == "lea@example.org"]) == 1
    assert client.post(link[:-3] + "abc").status_code == 400


def test_notifications_go_through_redis_and_its_worker(app, runner, mailbox, lea, editor):
    from .test_jobs import REDIS_URL, _redis_answers

    if not _redis_answers():
        pytest.skip(f"no Redis answers at {REDIS_URL}")
    import uuid

    app.config.update(REDIS_URL=REDIS_URL, JOB_QUEUE=f"commons-test-{uuid.uuid4().hex}")
    try:
        page = _make(editor)
        watching.watch(lea, WatchTarget.PAGE, page)
        db.session.commit()
        _edit(page, editor, "Deux.\n")
        assert mailbox.messages == []
        result = runner.invoke(args=["worker", "--burst"])
        assert result.exit_code == 0, result.output
        assert [m["To"] for m in mailbox.messages] == ["lea@example.org"]
    finally:
        jobs.redis_queue(app).delete(delete_jobs=True)
    time.sleep(0)
