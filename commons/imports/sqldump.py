"""Rows of a MySQL or MariaDB dump (what ``mysqldump`` writes), read with sqlglot.

Only ``CREATE TABLE`` (for the column order) and ``INSERT`` statements of the tables
asked for are parsed; everything else (``SET``, ``LOCK``, comments…) is passed over. A
statement is parsed on its own as soon as it is complete, so memory follows the largest
statement, not the dump. Values come back as Python strings, numbers or None.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import sqlglot
from flask_babel import lazy_gettext as _l
from sqlglot import exp
from sqlglot.errors import SqlglotError

from ..errors import ValidationError

_STATEMENT_START = re.compile(r"^\s*(CREATE\s+TABLE|INSERT\s+(?:IGNORE\s+)?INTO)\b", re.I)
_TABLE_NAME = re.compile(
    r"^\s*(?:CREATE\s+TABLE(?:\s+IF\s+NOT\s+EXISTS)?|INSERT\s+(?:IGNORE\s+)?INTO)\s+`?([^`\s(]+)`?",
    re.I,
)
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`[^`]*`", re.S)
_QUOTE = re.compile(r"['\"`]")
#: A statement longer than this is not from a dump of a wiki (mysqldump cuts at 1 MB).
MAX_STATEMENT_BYTES = 64 * 1024 * 1024

Row = dict[str, Any]


def read_tables(lines: Iterable[str], tables: set[str]) -> dict[str, list[Row]]:
    """The rows of each table of ``tables`` found in the dump, as column → value dicts.

    Raises ValidationError naming the line when a statement of those tables cannot be read.
    """
    columns: dict[str, list[str]] = {}
    rows: dict[str, list[Row]] = {name: [] for name in tables}
    for line_number, statement in _statements(lines):
        match = _TABLE_NAME.match(statement)
        if not match or match.group(1) not in tables:
            continue
        table = match.group(1)
        parsed = _parse(statement, line_number)
        if isinstance(parsed, exp.Create):
            columns[table] = [
                column.name
                for column in parsed.this.expressions
                if isinstance(column, exp.ColumnDef)
            ]
        elif isinstance(parsed, exp.Insert):
            rows[table].extend(_rows(parsed, columns.get(table), table, line_number))
    return rows


def _statements(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """The CREATE TABLE and INSERT statements, each with the line it starts on.

    mysqldump ends every statement with ``;`` at the end of a line and writes newlines
    inside strings as ``\\n``; a line ending with ``;`` inside a multi-line string is
    handled by :func:`_parse` asking for more.
    """
    pending: list[str] = []
    size = 0
    start = 0
    for number, line in enumerate(lines, start=1):
        if not pending:
            if not _STATEMENT_START.match(line):
                continue
            start = number
        pending.append(line)
        size += len(line)
        if size > MAX_STATEMENT_BYTES:
            raise ValidationError(
                _l("The statement starting on line %(line)s of the dump is too large.", line=start),
                code="dump_invalid",
            )
        if line.rstrip().endswith(";") and _complete("".join(pending)):
            yield start, "".join(pending)
            pending, size = [], 0
    if pending:
        raise ValidationError(
            _l("The statement starting on line %(line)s of the dump never ends.", line=start),
            code="dump_invalid",
        )


def _complete(text: str) -> bool:
    """Whether ``text`` closes every quoted string it opens (backslash escapes included)."""
    return not _QUOTE.search(_QUOTED.sub("", text))


def _parse(statement: str, line_number: int) -> exp.Expression:
    try:
        parsed = sqlglot.parse_one(statement, read="mysql")
    except SqlglotError as error:
        raise ValidationError(
            _l(
                "The dump cannot be read at line %(line)s: %(problem)s",
                line=line_number,
                problem=str(error).split("\n", 1)[0][:200],
            ),
            code="dump_invalid",
        ) from error
    return parsed


def _rows(
    insert: exp.Insert, known: list[str] | None, table: str, line_number: int
) -> Iterator[Row]:
    target = insert.this
    names = (
        [column.name for column in target.expressions] if isinstance(target, exp.Schema) else known
    )
    if not names:
        raise ValidationError(
            _l(
                "The dump inserts rows into “%(table)s” (line %(line)s) before saying its columns.",
                table=table,
                line=line_number,
            ),
            code="dump_invalid",
        )
    values = insert.expression
    if not isinstance(values, exp.Values):
        return
    for row in values.expressions:
        cells = [_value(cell) for cell in row.expressions]
        if len(cells) != len(names):
            raise ValidationError(
                _l(
                    "A row of “%(table)s” (line %(line)s) has %(count)s values for "
                    "%(columns)s columns.",
                    table=table,
                    line=line_number,
                    count=len(cells),
                    columns=len(names),
                ),
                code="dump_invalid",
            )
        yield dict(zip(names, cells, strict=True))


def _value(cell: exp.Expression) -> Any:
    if isinstance(cell, exp.Null):
        return None
    if isinstance(cell, exp.Literal):
        return cell.this if cell.is_string else _number(cell.this)
    if isinstance(cell, exp.Neg) and isinstance(cell.this, exp.Literal):
        return -_number(cell.this.this)
    return cell.sql(dialect="mysql")


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)
