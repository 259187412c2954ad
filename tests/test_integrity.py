"""The integrity check finds broken histories and passes sound ones; concurrent saves."""

from __future__ import annotations

import threading

from sqlalchemy import select

from commons import integrity, media, pages
from commons.errors import EditConflict
from commons.extensions import db
from commons.models import Revision

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
