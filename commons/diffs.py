"""Readable line diffs between two revisions, in time that grows with their size.

``difflib``'s matcher alone takes time quadratic in the lines a text repeats (thousands
of identical lines take minutes), so lines are matched in three passes, each on the
stretches the previous one left:

* lines equal at the start and at the end of a stretch match;
* lines found exactly once in both stretches anchor it: the longest run of them in
  the same order (patience sorting, n·log n) matches, and the stretches between
  anchors are compared again;
* a stretch with no such line left is compared by Myers' algorithm, whose work is the
  stretch's length times the number of lines changed in it.

All of it spends from one budget of line comparisons (:data:`MAX_WORK`); a diff that
would need more, or would show more than :data:`MAX_ROWS` rows, raises
:class:`DiffTooLarge` rather than keep a worker busy.
"""

from __future__ import annotations

import bisect
import difflib
from collections import Counter
from dataclasses import dataclass

#: Line comparisons one diff may make: a few tenths of a second.
MAX_WORK = 1_000_000
#: Rows (lines and section headers) one diff may show.
MAX_ROWS = 20_000


class DiffTooLarge(Exception):
    """The two texts are too large, or too different, to compare line by line."""


@dataclass(frozen=True)
class DiffLine:
    """One line of a unified diff: ``kind`` is "add", "del", "ctx" or "hunk"."""

    kind: str
    text: str
    old_number: int | None = None
    new_number: int | None = None


def line_diff(old: str, new: str, context: int = 3) -> list[DiffLine]:
    """A unified line diff of two texts; empty when they are identical.

    Raises :class:`DiffTooLarge` when it cannot be computed within the budget.
    """
    if old == new:
        return []
    old_lines, new_lines = old.splitlines(), new.splitlines()
    matcher = _Matcher(old_lines, new_lines)
    lines: list[DiffLine] = []
    for group in matcher.get_grouped_opcodes(context):
        first, last = group[0], group[-1]
        lines.append(
            DiffLine(
                "hunk",
                f"@@ -{first[1] + 1},{last[2] - first[1]} +{first[3] + 1},{last[4] - first[3]} @@",
            )
        )
        for tag, i1, i2, j1, j2 in group:
            if len(lines) + (i2 - i1) + (j2 - j1) > MAX_ROWS:
                raise DiffTooLarge
            if tag == "equal":
                lines.extend(
                    DiffLine("ctx", old_lines[i], i + 1, j1 + (i - i1) + 1) for i in range(i1, i2)
                )
                continue
            lines.extend(DiffLine("del", old_lines[i], i + 1, None) for i in range(i1, i2))
            lines.extend(DiffLine("add", new_lines[j], None, j + 1) for j in range(j1, j2))
    return lines


def stats(lines: list[DiffLine]) -> tuple[int, int]:
    """(added, removed) line counts."""
    return (
        sum(1 for line in lines if line.kind == "add"),
        sum(1 for line in lines if line.kind == "del"),
    )


class _Matcher(difflib.SequenceMatcher):
    """difflib's opcodes and hunks over matching blocks found as the module explains."""

    def __init__(self, a: list[str], b: list[str]) -> None:  # noqa: PLW0231
        # Not difflib's constructor: the index of b it builds is only used by its own
        # (quadratic) matching, and takes a while on a large text.
        self.a, self.b = a, b
        self.matching_blocks = self.opcodes = None

    def get_matching_blocks(self) -> list[difflib.Match]:  # type: ignore[override]
        """The matching runs of lines, in order, ending with ``(len(a), len(b), 0)``."""
        if self.matching_blocks is None:
            blocks = _merged(_Comparison(self.a, self.b).matches())
            self.matching_blocks = [*blocks, difflib.Match(len(self.a), len(self.b), 0)]
        return self.matching_blocks


def _merged(blocks: list[tuple[int, int, int]]) -> list[difflib.Match]:
    """Matching runs (line of a, line of b, length) in order, touching ones joined."""
    merged: list[difflib.Match] = []
    for i, j, size in sorted(blocks):
        last = merged[-1] if merged else None
        if last and last.a + last.size == i and last.b + last.size == j:
            merged[-1] = last._replace(size=last.size + size)
        else:
            merged.append(difflib.Match(i, j, size))
    return merged


class _Comparison:
    """One comparison of two lists of lines, spending from :data:`MAX_WORK`."""

    def __init__(self, a: list[str], b: list[str]) -> None:
        # Lines become numbers: comparing them is then cheap whatever their length.
        numbers = {line: number for number, line in enumerate(dict.fromkeys(a + b))}
        self.a = list(map(numbers.__getitem__, a))
        self.b = list(map(numbers.__getitem__, b))
        self.work = 0

    def spend(self, amount: int) -> None:
        """Count ``amount`` comparisons; raise :class:`DiffTooLarge` past the budget."""
        self.work += amount
        if self.work > MAX_WORK:
            raise DiffTooLarge

    def matches(self) -> list[tuple[int, int, int]]:
        """Matching runs of lines: (line of a, line of b, length), in no order."""
        a, b = self.a, self.b
        blocks: list[tuple[int, int, int]] = []
        stretches = [(0, len(a), 0, len(b))]
        while stretches:
            alo, ahi, blo, bhi = stretches.pop()
            start = alo
            while alo < ahi and blo < bhi and a[alo] == b[blo]:
                alo, blo = alo + 1, blo + 1
            blocks.append((start, blo - (alo - start), alo - start))
            end = ahi
            while alo < ahi and blo < bhi and a[ahi - 1] == b[bhi - 1]:
                ahi, bhi = ahi - 1, bhi - 1
            blocks.append((ahi, bhi, end - ahi))
            if alo == ahi or blo == bhi:
                continue
            self.spend(ahi - alo + bhi - blo)
            anchors = self._anchors(alo, ahi, blo, bhi)
            if not anchors:
                blocks.extend(self._myers(alo, ahi, blo, bhi))
                continue
            blocks.extend((i, j, 1) for i, j in anchors)
            starts = [(alo, blo)] + [(i + 1, j + 1) for i, j in anchors]
            ends = anchors + [(ahi, bhi)]
            stretches.extend(
                (i1, i2, j1, j2) for (i1, j1), (i2, j2) in zip(starts, ends, strict=True)
            )
        return [block for block in blocks if block[2]]

    def _anchors(self, alo: int, ahi: int, blo: int, bhi: int) -> list[tuple[int, int]]:
        """The longest run, in the same order in both, of lines unique in both stretches."""
        a_counts, b_counts = Counter(self.a[alo:ahi]), Counter(self.b[blo:bhi])
        in_b = {line: j for j, line in enumerate(self.b[blo:bhi], blo) if b_counts[line] == 1}
        candidates = [
            (i, in_b[line])
            for i, line in enumerate(self.a[alo:ahi], alo)
            if a_counts[line] == 1 and line in in_b
        ]
        self.spend(len(candidates) * max(1, len(candidates).bit_length()))
        # Patience sorting: tops[k] is the smallest line of b ending a run of k + 1.
        tops: list[int] = []
        top_index: list[int] = []
        previous: list[int] = []
        for index, (_i, j) in enumerate(candidates):
            pile = bisect.bisect_left(tops, j)
            previous.append(top_index[pile - 1] if pile else -1)
            if pile == len(tops):
                tops.append(j)
                top_index.append(index)
            else:
                tops[pile], top_index[pile] = j, index
        run: list[tuple[int, int]] = []
        index = top_index[-1] if top_index else -1
        while index >= 0:
            run.append(candidates[index])
            index = previous[index]
        run.reverse()
        return run

    def _myers(self, alo: int, ahi: int, blo: int, bhi: int) -> list[tuple[int, int, int]]:
        """The matching runs of a shortest edit script between two stretches (Myers 1986).

        ``frontiers[d][k + d]`` is how far along a the furthest path with ``d`` edits
        reaches on diagonal ``k`` (line of a minus line of b, from the stretch's start).
        """
        a, b = self.a[alo:ahi], self.b[blo:bhi]
        n, m = len(a), len(b)
        # At least this many edits: what no line in common can pair. Reaching d edits
        # takes about d² / 2 steps.
        common = (Counter(a) & Counter(b)).total()
        if not common:
            return []
        self.spend((n + m - 2 * common) ** 2 // 2)
        frontiers: list[list[int]] = []
        previous = [0, 0]  # diagonal 1 at d = -1, so that d = 0 starts at (0, 0)
        for d in range(n + m + 1):
            frontier = [0] * (2 * d + 1)
            steps = d + 1
            for k in range(-d, d + 1, 2):
                x = _step(previous, d - 1, k)
                y = x - k
                start = x
                while x < n and y < m and a[x] == b[y]:
                    x, y = x + 1, y + 1
                steps += x - start
                frontier[k + d] = x
                if x >= n and y >= m:
                    frontiers.append(frontier)
                    return self._myers_path(frontiers, n, m, alo, blo)
            self.spend(steps)
            frontiers.append(frontier)
            previous = frontier
        raise AssertionError("a path of n + m edits always exists")  # pragma: no cover

    @staticmethod
    def _myers_path(
        frontiers: list[list[int]], n: int, m: int, alo: int, blo: int
    ) -> list[tuple[int, int, int]]:
        """The matching runs along the path ``frontiers`` found, walked back from the end."""
        runs = []
        x, y = n, m
        for d in range(len(frontiers) - 1, -1, -1):
            k = x - y
            if d:
                before = frontiers[d - 1]
                came_from = k + 1 if _from_above(before, d - 1, k) else k - 1
                start_x = before[came_from + d - 1]
                start_y = start_x - came_from
                # The edit itself: one line of b added (from above) or of a removed.
                snake_x = start_x if came_from == k + 1 else start_x + 1
            else:
                snake_x = 0
            if x > snake_x:
                runs.append((alo + snake_x, blo + y - (x - snake_x), x - snake_x))
            if d:
                x, y = start_x, start_y
        return runs


def _from_above(frontier: list[int], d: int, k: int) -> bool:
    """Whether the path to diagonal ``k`` after ``d + 1`` edits comes from diagonal k + 1."""
    return k == -(d + 1) or (k != d + 1 and frontier[k - 1 + d] < frontier[k + 1 + d])


def _step(frontier: list[int], d: int, k: int) -> int:
    """Where on a the path to diagonal ``k`` starts, from the ``frontier`` of ``d`` edits."""
    if d < 0:
        return 0
    if _from_above(frontier, d, k):
        return frontier[k + 1 + d]
    return frontier[k - 1 + d] + 1
