"""Readable line diffs between two revisions."""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class DiffLine:
    """One line of a unified diff: ``kind`` is "add", "del", "ctx" or "hunk"."""

    kind: str
    text: str
    old_number: int | None = None
    new_number: int | None = None


def line_diff(old: str, new: str, context: int = 3) -> list[DiffLine]:
    """A unified line diff of two texts; empty when they are identical."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
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
