"""The integrity check finds broken histories and passes sound ones; concurrent saves."""

from __future__ import annotations

import re
import threading

from sqlalchemy import select

from commons import integrity, media, page_queries, pages
from commons.extensions import db
from commons.models import Revision

from .conftest import PASSWORD
from .test_media import picture


def _two_pages(member) -> None:
    for title in ("Un", "Deux"):
        page = pages.save(None, title=title, body="a\n", author=member).page
        pages.save(page.slug, title=title, body="a\nb\n", author=member)


def select_revision(number: int):
    return select(Revision).where(Revision.number == number).order_by(Revision.id)


def test_a_sound_history_passes(runner, member) -> None:
    _two_pages(member)
    assert integrity.check() == []
    result = runner.invoke(args=["check"])
    assert result.exit_code == 0, result.output


def test_tampered_content_and_broken_chain_are_reported(runner, member) -> None:
    _two_pages(member)
    first = db.session.scalars(select_revision(1)).first()
    first.body = "changé en douce\n"
    second = db.session.scalars(select_revision(2)).first()
    second.parent_id = None
    db.session.commit()
    problems = integrity.check()
    assert any("sha256" in problem for problem in problems)
    assert any("parent" in problem for problem in problems)
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1


PARAGRAPHS = 8
#: Writers that change paragraphs nobody else touches: their edits must all merge.
APART = range(4)
#: Writers that all change the last paragraph, each differently: one wins, the others
#: must be told of the conflict.
TOGETHER = range(4, 7)


def _course(changes: dict[int, str]) -> str:
    """The race's page text, with ``changes`` made to some of its paragraphs."""
    return "".join(f"{changes.get(n, f'Paragraphe {n}.')}\n\n" for n in range(PARAGRAPHS))


def _edit_of(writer: int) -> tuple[int, str]:
    """The paragraph ``writer`` changes, and what it writes there."""
    paragraph = writer if writer in APART else PARAGRAPHS - 1
    return paragraph, f"Paragraphe {paragraph}, version de l'auteur {writer}."


def test_concurrent_edits_through_http_merge_or_conflict_and_never_lose(app, member) -> None:
    """Writers racing on one page from several threads, as gunicorn workers would."""
    pages.save(None, title="Course", body=_course({}), author=member)
    login = {"name": member.name, "password": PASSWORD}
    db.session.commit()  # the writers' requests must not wait for this test's transaction
    ready = threading.Barrier(len(APART) + len(TOGETHER))
    statuses: dict[int, int] = {}

    def writer(number: int) -> None:
        client = app.test_client()
        client.post("/login", data=login)
        paragraph, text = _edit_of(number)
        form = {
            "title": "Course",
            "body": _course({paragraph: text}),
            "base_revision": "1",
            "accept_license": "on",
        }
        ready.wait(timeout=60)  # all start from revision 1 and save at once
        statuses[number] = client.post("/wiki/course/edit", data=form).status_code

    threads = [threading.Thread(target=writer, args=(n,)) for n in (*APART, *TOGETHER)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert {statuses[n] for n in APART} == {302}
    winners = [n for n in TOGETHER if statuses[n] == 302]
    assert len(winners) == 1, statuses
    assert sorted(statuses[n] for n in TOGETHER if n not in winners) == [409, 409]
    page = page_queries.get("course")
    expected = _course(dict(_edit_of(n) for n in (*APART, *winners)))
    assert page.current_revision.body == expected
    assert page.revision_count == 1 + len(APART) + len(winners)
    bodies = db.session.scalars(select(Revision.body).where(Revision.page_id == page.id)).all()
    assert len(bodies) == page.revision_count
    assert not [body for body in bodies if re.search(r"^(<{7}|={7}|>{7})", body, re.M)]
    assert integrity.check() == []


def test_media_files_missing_damaged_or_left_over_are_reported(app, member) -> None:
    first = media.upload(picture(color="red"), filename="rouge.png", author=member)
    second = media.upload(picture(color="blue"), filename="bleu.png", author=member)
    assert integrity.check() == []

    media.file_path(first.sha256).unlink()
    media.file_path(second.sha256).write_bytes(b"autre chose")
    leftover = media.file_path("ab" * 32)
    leftover.parent.mkdir(parents=True, exist_ok=True)
    leftover.write_bytes(b"abandonne")

    problems = integrity.check()
    assert "file rouge.png version 1: its stored file is missing" in problems
    assert "file bleu.png version 1: its stored file does not match its sha256 and size" in problems
    assert any(problem.startswith(f"media folder: ab/{'ab' * 32}") for problem in problems)
    assert len(problems) == 3
