"""Line diffs between revisions: readable, correct, and in time that grows with the texts."""

from __future__ import annotations

import difflib
import random

import pytest

from commons import diff_rows, diffs, pages

from .growth import assert_linear

WORDS = ["atelier", "commun", "économie", "réseau", "outil", "jardin", "local", "fiche"]


def prose(lines: int, seed: int) -> str:
    """Paragraphs of words, each line different, with blank lines between paragraphs."""
    chance = random.Random(seed)
    out = []
    for number in range(lines):
        out.append(" ".join(chance.choice(WORDS) for _ in range(6)) + f" {number}")
        if chance.random() < 0.3:
            out.append("")
    return "\n".join(out) + "\n"


def apply(old: str, lines: list[diffs.DiffLine]) -> list[str]:
    """The new text's lines, rebuilt from the old one and a diff with all its context."""
    rebuilt = []
    for line in lines:
        if line.kind in ("ctx", "add"):
            rebuilt.append(line.text)
    assert len([line for line in lines if line.kind != "add" and line.kind != "hunk"]) == len(
        old.splitlines()
    )
    return rebuilt


def test_a_diff_keeps_difflib_s_format():
    old = "un\ndeux\ntrois\nquatre\ncinq\nsix\nsept\nhuit\nneuf\ndix\n"
    new = "un\ndeux\ntrois\nQUATRE\ncinq\nsix\nsept\nhuit\nneuf\ndix\nonze\n"

    lines = diffs.line_diff(old, new)

    expected = [
        line.rstrip("\n")
        for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=3)
    ][2:]
    signs = {"hunk": "", "ctx": " ", "add": "+", "del": "-"}
    shown = [signs[line.kind] + line.text for line in lines]
    assert shown == expected
    assert diffs.stats(lines) == (2, 1)


@pytest.mark.parametrize("seed", range(200))
def test_a_diff_rebuilds_the_new_text(seed):
    chance = random.Random(seed)
    alphabet = chance.choice(["ab", "abc", "abcdefghij"])
    old = [chance.choice(alphabet) for _ in range(chance.randint(0, 30))]
    new = list(old)
    for _ in range(chance.randint(0, 6)):
        place = chance.randint(0, len(new))
        if chance.random() < 0.5:
            new.insert(place, chance.choice(alphabet))
        elif new:
            del new[min(place, len(new) - 1)]
    old_text, new_text = "\n".join(old), "\n".join(new)

    lines = diffs.line_diff(old_text, new_text, context=len(old) + len(new))

    assert (apply(old_text, lines) if lines else old) == new
    assert all(
        (line.kind == "del") == (line.new_number is None) for line in lines if line.kind != "hunk"
    )


def diff_or_too_large(texts: tuple[str, str]) -> list[diffs.DiffLine] | None:
    try:
        return diffs.line_diff(*texts)
    except diffs.DiffTooLarge:
        return None


FAMILIES = {
    "identical lines, one changed": lambda n: (
        "a\n" * (n // 2),
        "a\n" * (n // 4) + "b\n" + "a\n" * (n // 4),
    ),
    "identical lines, many changed": lambda n: (
        "a\n" * (n // 2),
        "".join("b\n" if i % 500 == 0 else "a\n" for i in range(n // 2)),
    ),
    "identical lines against alternating ones": lambda n: ("a\n" * (n // 2), "a\nb\n" * (n // 4)),
    "two different texts": lambda n: (prose(n // 60, 1), prose(n // 60, 2)),
    "a text and its edit": lambda n: (
        prose(n // 60, 3),
        prose(n // 60, 3).replace("jardin outil", "potager"),
    ),
    "a text and its lines shuffled": lambda n: (
        prose(n // 60, 4),
        "".join(sorted(prose(n // 60, 4).splitlines(keepends=True))),
    ),
}


@pytest.mark.parametrize("make", FAMILIES.values(), ids=FAMILIES.keys())
def test_a_diff_takes_time_linear_in_the_texts(make):
    assert_linear(make, diff_or_too_large, 400_000, repeats=7, max_n=800_000)


def test_thousands_of_identical_lines_compare_within_the_budget():
    body = "a\n" * 10_000

    assert diffs.line_diff(body, body) == []
    assert diffs.stats(diffs.line_diff(body, body + "b\n")) == (1, 0)
    with pytest.raises(diffs.DiffTooLarge):
        diffs.line_diff(body, "a\nb\n" * 5_000)


def test_the_diff_page_of_a_megabyte_page_answers(client, member):
    body = "a\n" * 500_000
    page = pages.save(None, title="Énorme", body=body, author=member).page
    changed = "a\n" * 250_000 + "b\n" + "a\n" * 249_999
    pages.save(page.slug, title=page.title, body=changed, author=member)
    pages.save(page.slug, title=page.title, body="a\nb\n" * 250_000, author=member)
    client.post("/language", data={"locale": "en", "next": "/"})

    itself = client.get(f"/wiki/{page.slug}/diff?from=1&to=1")
    one_line = client.get(f"/wiki/{page.slug}/diff?from=1&to=2")
    too_large = client.get(f"/wiki/{page.slug}/diff?from=2&to=3")

    assert "No differences" in itself.get_data(as_text=True)
    assert one_line.status_code == 200
    assert '<span class="diff-line">b</span>' in one_line.get_data(as_text=True)
    text = too_large.get_data(as_text=True)
    assert too_large.status_code == 200
    assert "too large to compare line by line" in text
    assert "Revision 2: 1,000,000 characters in 500,000 lines." in text
    assert "Revision 3: 1,000,000 characters in 500,000 lines." in text


def test_changed_words_are_marked_inside_the_changed_line(client, member):
    old = "Titre\n\nLe jardin partagé ouvre le samedi matin.\nFin\n"
    new = "Titre\n\nLe jardin partagé ouvre le dimanche matin, dès 9 h.\nFin\nSuite\n"
    page = pages.save(None, title="Jardin", body=old, author=member).page
    pages.save(page.slug, title=page.title, body=new, author=member)

    rows = diff_rows.rows(diffs.line_diff(old, new))
    html = client.get(f"/wiki/{page.slug}/diff?from=1&to=2").get_data(as_text=True)

    change = next(row for row in rows if row.kind == "change")
    assert [text for text, changed in change.old.segments if changed] == ["samedi"]
    assert [text for text, changed in change.new.segments if changed] == ["dimanche", ", dès 9 h"]
    assert [row.kind for row in rows if row.kind in ("add", "del")] == ["add"]
    assert "<del>samedi</del>" in html and "<ins>dimanche</ins>" in html
    assert "@@" not in html


def test_a_pair_of_very_long_lines_is_shown_whole():
    old = " ".join(["mot"] * diff_rows.MAX_LINE_WORDS)
    new = old + " fin"

    (row,) = [row for row in diff_rows.rows(diffs.line_diff(old, new)) if row.kind != "gap"]

    assert row.kind == "change"
    assert row.old.segments == ((old, False),) and row.new.segments == ((new, False),)


def every_line_reworded(n: int) -> list[diffs.DiffLine]:
    old = prose(n // 60, 5)
    new = "\n".join(line.replace("jardin", "potager") + " !" for line in old.splitlines())
    return diffs.line_diff(old, new)


def test_word_marks_take_time_linear_in_the_diff():
    assert_linear(every_line_reworded, diff_rows.rows, 20_000, repeats=5, max_n=400_000)
