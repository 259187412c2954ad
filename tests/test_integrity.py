"""The integrity check finds broken histories and passes sound ones; concurrent saves."""

from __future__ import annotations

import threading

from sqlalchemy import select

from commons import integrity, pages
from commons.errors import EditConflict
from commons.extensions import db
from commons.models import Revision


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


def test_concurrent_saves_merge_or_conflict_never_lose(app, member) -> None:
    """Writers racing on one page from several threads, as gunicorn workers would."""
    pages.save(None, title="Course", body="".join(f"{n}\n" for n in range(8)), author=member)
    outcomes: list[str] = []

    def writer(line: int) -> None:
        with app.app_context():
            lines = [f"{n}\n" for n in range(8)]
            lines[line] = f"{line} modifié\n"
            try:
                result = pages.save(
                    "course",
                    title="Course",
                    body="".join(lines),
                    author=db.session.merge(member),
                    base_revision=1,
                )
                outcomes.append("merged" if result.merged else "saved")
            except EditConflict:
                outcomes.append("conflict")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.expire_all()
    body = pages.get("course").current_revision.body
    saved = [o for o in outcomes if o != "conflict"]
    assert len(outcomes) == 8
    assert pages.get("course").revision_count == 1 + len(saved)
    assert body.count("modifié") == len(saved)
    assert integrity.check() == []
    assert "saved" in outcomes
