"""The rows a reader sees for a line diff: changed lines paired, changed words marked.

:func:`diffs.line_diff` finds which lines changed; here each run of removed lines is
paired with the run of added lines that replaces it (MediaWiki's way), and inside each
pair diff-match-patch finds the changed words. Pairs with too many words are shown
whole, so the work stays within :data:`MAX_LINE_WORDS` times the size of the diff,
and within :data:`MAX_WORD_WORK` for one diff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from diff_match_patch import diff_match_patch

from .diffs import DiffLine

#: Beyond this many words (and spaces and signs) in either line, a pair is shown whole.
MAX_LINE_WORDS = 400
#: Word comparisons (words of one line times words of the other) one diff may make.
MAX_WORD_WORK = 2_000_000
#: Tokens become characters of a private use plane, which has room for 2 × MAX_LINE_WORDS.
_FIRST_CODE = 0xF0000
#: A word, a run of spaces, or any other single character.
_TOKENS = re.compile(r"\w+|\s+|[^\w\s]")


@dataclass(frozen=True)
class Side:
    """One side of a row: its line number and its text as (text, changed) segments."""

    number: int
    segments: tuple[tuple[str, bool], ...]


@dataclass(frozen=True)
class Row:
    """One row: ``kind`` is "ctx", "change", "del", "add" or "gap" (a skipped stretch).

    A gap's sides carry the line numbers where the next shown lines start.
    """

    kind: str
    old: Side | None
    new: Side | None


def rows(lines: list[DiffLine]) -> list[Row]:
    """The rows of a diff given by :func:`diffs.line_diff`, ready to show side by side."""
    budget = _Budget()
    result: list[Row] = []
    removed: list[DiffLine] = []
    added: list[DiffLine] = []

    def flush() -> None:
        for old, new in zip(removed, added, strict=False):
            result.append(_paired(old, new, budget))
        result.extend(
            Row("del", _whole(line.old_number, line.text), None) for line in removed[len(added) :]
        )
        result.extend(
            Row("add", None, _whole(line.new_number, line.text)) for line in added[len(removed) :]
        )
        removed.clear()
        added.clear()

    for index, line in enumerate(lines):
        if line.kind == "del":
            if added:
                flush()
            removed.append(line)
        elif line.kind == "add":
            added.append(line)
        else:
            flush()
            if line.kind == "hunk":
                result.append(_gap(lines[index + 1 :]))
            else:
                result.append(
                    Row(
                        "ctx",
                        _whole(line.old_number, line.text),
                        _whole(line.new_number, line.text),
                    )
                )
    flush()
    return result


class _Budget:
    """What is left of :data:`MAX_WORD_WORK`."""

    def __init__(self) -> None:
        self.left = MAX_WORD_WORK

    def spend(self, amount: int) -> bool:
        """Whether ``amount`` comparisons can still be made; counts them if so."""
        if amount > self.left:
            return False
        self.left -= amount
        return True


def _whole(number: int | None, text: str) -> Side:
    return Side(number or 0, ((text, False),))


def _gap(following: list[DiffLine]) -> Row:
    """Where the stretch after a skipped one starts, on each side."""
    old = next((line.old_number for line in following if line.old_number), None)
    new = next((line.new_number for line in following if line.new_number), None)
    return Row("gap", Side(old or 0, ()), Side(new or 0, ()))


def _paired(old: DiffLine, new: DiffLine, budget: _Budget) -> Row:
    """A removed line and the added line that replaces it, changed words marked."""
    old_tokens, new_tokens = _TOKENS.findall(old.text), _TOKENS.findall(new.text)
    if max(len(old_tokens), len(new_tokens)) > MAX_LINE_WORDS or not budget.spend(
        len(old_tokens) * len(new_tokens)
    ):
        return Row("change", _whole(old.old_number, old.text), _whole(new.new_number, new.text))
    old_segments, new_segments = _word_diff(old_tokens, new_tokens)
    if not any(text.strip() for text, changed in new_segments if not changed):
        # Nothing but spaces in common: marking every word would only add noise.
        return Row("change", _whole(old.old_number, old.text), _whole(new.new_number, new.text))
    return Row(
        "change", Side(old.old_number or 0, old_segments), Side(new.new_number or 0, new_segments)
    )


def _word_diff(
    old_tokens: list[str], new_tokens: list[str]
) -> tuple[tuple[tuple[str, bool], ...], tuple[tuple[str, bool], ...]]:
    """Both lines as segments, the words only one of them has marked as changed."""
    # diff-match-patch compares characters: each distinct token becomes one character,
    # as its line mode does with lines, so words change whole.
    codes: dict[str, str] = {}
    for token in old_tokens + new_tokens:
        codes.setdefault(token, chr(_FIRST_CODE + len(codes)))
    tokens_of = {code: token for token, code in codes.items()}
    matcher = diff_match_patch()
    matcher.Diff_Timeout = 0  # the budget above bounds the work; a timeout would not be repeatable
    edits = matcher.diff_main(
        "".join(map(codes.__getitem__, old_tokens)),
        "".join(map(codes.__getitem__, new_tokens)),
        False,
    )
    matcher.diff_cleanupSemantic(edits)
    old_segments: list[tuple[str, bool]] = []
    new_segments: list[tuple[str, bool]] = []
    for operation, coded in edits:
        text = "".join(map(tokens_of.__getitem__, coded))
        if operation <= 0:
            old_segments.append((text, operation < 0))
        if operation >= 0:
            new_segments.append((text, operation > 0))
    return tuple(old_segments), tuple(new_segments)
