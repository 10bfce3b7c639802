"""Reading CSV through DuckDB without ever silently reading it wrong, and saying exactly where it is broken.

DuckDB detects the dialect and types and reads fast, in parallel, out of core. Left alone it is also
forgiving in ways that hurt a pipeline: a ragged file can be "detected" as one wide text column and a
bad row can be skipped. So the read keeps rejected rows (``store_rejects``) and the caller turns the
first of them into a :class:`DataError` with file, line and column; and when the sniffer cannot make
sense of a file at all, a streaming pass with Python's ``csv`` module (only on that failure path)
finds the first broken line so the user is not left with "could not detect the dialect".
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from modelyard.errors import DataError, Location

if TYPE_CHECKING:
    import duckdb

DEFAULT_NA_VALUES: tuple[str, ...] = ("NA", "")
_DELIMITER_CANDIDATES = (",", ";", "\t", "|")
_QUOTE = '"'


def sql_string(text: str) -> str:
    """A SQL string literal; paths and names go through here so a quote in them cannot break a query."""
    return "'" + text.replace("'", "''") + "'"


#: Encodings DuckDB decodes itself; others would need an extension that may not be installable offline.
ENCODINGS = ("utf-8", "utf-16", "latin-1")


@dataclass(frozen=True)
class CsvOptions:
    """How to read a CSV when sniffing is not enough: None means "detect it".

    ``quote`` defaults to ``"`` (RFC 4180) rather than being sniffed, see :func:`csv_table_sql`.
    """

    delimiter: str | None = None
    quote: str = _QUOTE
    escape: str | None = None
    encoding: str | None = None
    header: bool | None = None

    def __post_init__(self) -> None:
        if self.delimiter is not None and len(self.delimiter.encode()) != 1 and self.delimiter != "\\t":
            raise DataError(f"the delimiter must be one character, got {self.delimiter!r}", hint="e.g. ';' or '\\t'")
        if self.encoding is not None and self.encoding.lower().replace("_", "-") not in ENCODINGS:
            raise DataError(f"unsupported encoding {self.encoding!r}", hint="known: " + ", ".join(ENCODINGS))


def csv_table_sql(
    path: Path, na_values: tuple[str, ...], *, full_sample: bool = False, options: CsvOptions | None = None
) -> str:
    """The ``read_csv(...)`` table expression: dialect and header sniffed, quoting per RFC 4180.

    The quote character is fixed to ``"`` rather than sniffed because a sniffer that sees no quote in
    its sample turns a later quoted value into literal text; ``full_sample`` makes type detection read
    the whole file, used after a value late in the file did not fit the type guessed from the start.
    """
    given = options or CsvOptions()
    nulls = "[" + ", ".join(sql_string(value) for value in na_values) + "]"
    parts = [
        sql_string(str(path)),
        f"quote={sql_string(given.quote)}",
        f"escape={sql_string(given.escape or given.quote)}",
        f"nullstr={nulls}",
        "store_rejects=true",
    ]
    if given.delimiter is not None:
        parts.append(f"delim={sql_string(given.delimiter)}")
    if given.encoding is not None:
        parts.append(f"encoding={sql_string(given.encoding.lower().replace('_', '-'))}")
    if given.header is not None:
        parts.append(f"header={'true' if given.header else 'false'}")
    if full_sample:
        parts.append("sample_size=-1")
    return "read_csv(" + ", ".join(parts) + ")"


@dataclass(frozen=True)
class CsvProblem:
    """The first thing wrong with a CSV file, found either by DuckDB or by the diagnosing pass."""

    kind: str  # ragged | quoting | encoding | cast | line_too_long | unreadable
    line: int | None
    column: str | None
    detail: str
    count: int = 1  # how many rows DuckDB rejected in all

    def to_error(self, path: Path) -> DataError:
        hint = _HINTS.get(self.kind)
        text = self.detail
        if self.count > 1:
            text += f" ({self.count} rows rejected in all, this is the first)"
        return DataError(text, where=Location(file=str(path), line=self.line, column=self.column), hint=hint)


_HINTS = {
    "ragged": "every row needs as many fields as the header; quote values that contain the delimiter",
    "quoting": 'wrap a value that holds a quote or the delimiter in "...", doubling the quotes inside it',
    "encoding": "save the file as UTF-8, e.g. iconv -f latin1 -t utf-8 in.csv > out.csv",
    "cast": "a value does not fit the type of its column; fix the value or mark it as missing",
    "line_too_long": "an unterminated quote often makes the rest of the file one long line",
    "unreadable": "check that the file is CSV: a header line, then one record per line",
}


def rejects_problem(con: duckdb.DuckDBPyConnection) -> CsvProblem | None:
    """The first row DuckDB rejected in this connection's CSV scans, or None when every row was read."""
    try:
        rows = con.execute(
            "SELECT line, column_name, column_idx, error_type, error_message, count(*) OVER () "
            "FROM reject_errors ORDER BY line, column_idx LIMIT 1"
        ).fetchall()
    except Exception:  # no CSV scan ran in this connection, so there is no rejects table
        return None
    if not rows:
        return None
    line, column_name, _index, error_type, message, total = rows[0]
    kind = {
        "CAST": "cast",
        "MISSING COLUMNS": "ragged",
        "TOO MANY COLUMNS": "ragged",
        "UNQUOTED VALUE": "quoting",
        "INVALID ENCODING": "encoding",
        "INVALID UNICODE": "encoding",
        "LINE SIZE OVER MAXIMUM": "line_too_long",
    }.get(str(error_type), "unreadable")
    counts = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", str(message))
    if kind == "ragged" and counts:
        detail = f"row has {counts.group(2)} fields, the header has {counts.group(1)}"
    elif kind == "quoting":
        detail = "broken quoting: a quote is not closed, or text follows a closing quote"
    elif kind == "encoding":
        detail = "the file is not valid UTF-8 text"
    else:
        detail = str(message).strip().splitlines()[0] if message else str(error_type)
    # A field beyond the header has no name; the detail already says how many fields the row has.
    return CsvProblem(kind, int(line) if line else None, column_name or None, detail, count=int(total))


def clear_rejects(con: duckdb.DuckDBPyConnection) -> None:
    """Forget earlier rejects before a retry, so only the retry's own rejects count."""
    for table in ("reject_errors", "reject_scans"):
        try:
            con.execute(f"DELETE FROM {table}")
        except Exception:
            pass


def looks_misread(columns: list[str], path: Path) -> bool:
    """True when DuckDB read a file with delimiters in its header as one column: the sniffer gave up."""
    if len(columns) != 1:
        return False
    with path.open("rb") as handle:
        first = handle.readline().decode("utf-8", "replace")
    return any(delimiter in first for delimiter in _DELIMITER_CANDIDATES)


def guess_delimiter(path: Path) -> str:
    """The candidate delimiter seen most often in the header line (the header is rarely broken)."""
    with path.open("rb") as handle:
        first = handle.readline().decode("utf-8", "replace")
    counts = {delimiter: first.count(delimiter) for delimiter in _DELIMITER_CANDIDATES}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


class _BadEncoding(Exception):
    def __init__(self, line: int, character: int) -> None:
        self.line = line
        self.character = character
        super().__init__(f"line {line}")


def _decoded_lines(path: Path) -> Iterator[str]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _BadEncoding(number, len(raw[: exc.start].decode("utf-8", "replace")) + 1) from None
            yield text.removeprefix("\ufeff") if number == 1 else text


def _field_index(line: str, position: int, delimiter: str) -> int:
    """0-based index of the field that character ``position`` of ``line`` falls in."""
    index, quoted = 0, False
    for char in line[:position]:
        if char == _QUOTE:
            quoted = not quoted
        elif char == delimiter and not quoted:
            index += 1
    return index


def _bad_quote_position(line: str, delimiter: str) -> int | None:
    """0-based position of the quote that breaks ``line``: one never closed, or one followed by text."""
    quoted, opened_at, i = False, None, 0
    while i < len(line):
        char = line[i]
        if char == _QUOTE:
            if not quoted:
                quoted, opened_at = True, i
            elif i + 1 < len(line) and line[i + 1] == _QUOTE:
                i += 1  # a doubled quote inside a quoted value
            else:
                quoted = False
                following = line[i + 1 : i + 2]
                if following not in ("", delimiter, "\n", "\r"):
                    return i
        i += 1
    return opened_at if quoted else None


def diagnose(path: Path, delimiter: str | None = None) -> CsvProblem | None:
    """Stream through the file and return its first structural problem, or None when it looks sound.

    Only called once DuckDB has failed or misread the file, so speed matters less than a precise line.
    """
    delimiter = delimiter or guess_delimiter(path)
    reader = csv.reader(_decoded_lines(path), delimiter=delimiter, quotechar=_QUOTE, strict=True)
    header: list[str] | None = None
    start = 1
    current = ""
    try:
        for row in reader:
            if row:
                if header is None:
                    header = row
                elif len(row) != len(header):
                    column = header[len(row)] if len(row) < len(header) else None
                    return CsvProblem(
                        "ragged", start, column, f"row has {len(row)} fields, the header has {len(header)}"
                    )
            start = reader.line_num + 1
    except _BadEncoding as exc:
        return CsvProblem("encoding", exc.line, None, f"the file is not valid UTF-8 text (character {exc.character})")
    except csv.Error as exc:
        unterminated = "unexpected end of data" in str(exc)
        line = start if unterminated else reader.line_num
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if number == line:
                    current = raw.decode("utf-8", "replace")
                    break
        position = _bad_quote_position(current, delimiter)
        column = None
        if header is not None and position is not None:
            index = _field_index(current, position, delimiter)
            column = header[index] if index < len(header) else None
        where = f" at character {position + 1}" if position is not None else ""
        if unterminated:
            detail = f"a quote opened{where} is never closed"
        else:
            detail = f"broken quoting{where}: text follows a closing quote"
        return CsvProblem("quoting", line, column, detail)
    return None
