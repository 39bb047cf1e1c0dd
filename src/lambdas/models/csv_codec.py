"""Lossless CSV encoding of row models: RFC 4180, UTF-8, a fixed header, JSON for list columns."""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import re
import types
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from enum import Enum
from functools import cache
from operator import attrgetter
from typing import Annotated, Any, NamedTuple, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError

from lambdas.errors import MalformedCsvError

R = TypeVar("R", bound=BaseModel)

_CHECK_SLICE = 1 << 20  # bytes of UTF-8 validated at a time
MAX_FIELD_BYTES = 1_000_000  # one cell; Steam names are short, JSON lists stay far below this
#: Deepest JSON nesting a list cell may have: our lists hold objects of scalars (depth 2); a
#: hostile `[[[[…` would otherwise reach the decoder's recursion limit (RecursionError).
MAX_JSON_DEPTH = 4
#: Distinct short JSON cells remembered per file (bounds the memory a hostile file can pin).
MAX_CACHED_JSON_CELLS = 4_096
MAX_CACHED_JSON_CHARS = 2_048
#: Longest number text in a JSON cell or integer column: 2^64 has 20 digits. Python refuses to
#: convert integers of over 4,300 digits with a ValueError, and big ones are slow to convert.
MAX_NUMBER_CHARS = 24
#: An integer cell exactly as `str(int)` writes it: ASCII digits, an optional minus, no spaces,
#: `+`, `_` or leading zeros (pydantic's lax parsing accepts " 630 " and "1_000").
_STRICT_INT = re.compile(r"-?(?:0|[1-9][0-9]*)", re.ASCII)
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
#: A run of digits that, with a minus sign, could reach MAX_NUMBER_CHARS.
_LONG_DIGITS = re.compile(f"[0-9]{{{MAX_NUMBER_CHARS - 1},}}")
_JSON_INNERMOST = re.compile(r"\[[^\[\]{}]*\]|\{[^\[\]{}]*\}")
#: What no decoded text may hold: NUL (PostgreSQL text cannot) and lone surrogates (not UTF-8).
_FORBIDDEN_TEXT = re.compile("[\x00\ud800-\udfff]")


@cache
def _header(model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(model.model_fields)


def header_of(model: type[BaseModel]) -> list[str]:
    return list(_header(model))


class _Kind(NamedTuple):
    is_json: bool
    optional: bool  # an empty cell is None
    is_int: bool
    #: A JSON column's validator: a cell seen again reuses its validated (frozen) models.
    adapter: TypeAdapter[Any] | None = None


def _unwrapped(annotation: Any) -> Any:
    """A column's type without Optional and Annotated."""
    args = get_args(annotation)
    if get_origin(annotation) in (Union, types.UnionType) and type(None) in args:
        annotation = next((arg for arg in args if arg is not type(None)), annotation)
    return get_args(annotation)[0] if get_origin(annotation) is Annotated else annotation


@cache
def _column_kinds(model: type[BaseModel]) -> dict[str, _Kind]:
    kinds: dict[str, _Kind] = {}
    for name, field in model.model_fields.items():
        annotation = field.annotation
        args = get_args(annotation)
        optional = get_origin(annotation) in (Union, types.UnionType) and type(None) in args
        inner = _unwrapped(annotation)
        is_json = get_origin(inner) in (list, dict) or inner in (list, dict)
        is_int = isinstance(inner, type) and issubclass(inner, int) and inner is not bool
        adapter = TypeAdapter(annotation) if is_json and annotation is not None else None
        kinds[name] = _Kind(is_json, optional, is_int, adapter)
    return kinds


#: Timestamps as pydantic writes them in JSON (UTC as `Z`), as the cells always were.
_DATETIME: TypeAdapter[datetime] = TypeAdapter(datetime)


def _cell(value: Any) -> str:
    kind = type(value)  # the common cells first: exact str and int (not StrEnum, not bool)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is int:
        return str(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return _DATETIME.dump_python(value, mode="json")  # type: ignore[no-any-return]
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _of_frozen_models(annotation: Any) -> bool:
    """Whether a column is a list of frozen models (whose written text never changes)."""
    args = get_args(annotation)
    item = args[0] if get_origin(annotation) is list and args else None
    return (
        isinstance(item, type)
        and issubclass(item, BaseModel)
        and bool(item.model_config.get("frozen"))
    )


class _Utf8Chunks:
    """A write-only text sink that keeps UTF-8 bytes per write, so no whole-file str is built."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, text: str) -> int:
        self.chunks.append(text.encode("utf-8"))
        return len(text)


class RowEncoder:
    """The CSV of one model, written a row at a time: rows as models, or as the cells a
    decoded record already holds (passed through unchanged)."""

    def __init__(self, model: type[BaseModel]) -> None:
        self._sink = _Utf8Chunks()
        self._writer = csv.writer(self._sink, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        self._columns = header_of(model)
        self._writer.writerow(self._columns)
        self._values = attrgetter(*self._columns)
        self._fields = list(model.model_fields.values())
        # List columns are written by their validator's own JSON serializer (compact, UTF-8 as
        # is: the same text as json.dumps of the dumped models), not dumped to dicts first.
        self._json: list[
            tuple[int, TypeAdapter[Any], dict[tuple[int, ...], tuple[tuple[Any, ...], str]] | None]
        ] = [
            (index, kind.adapter, {} if _of_frozen_models(field.annotation) else None)
            for index, (kind, field) in enumerate(
                zip(_column_kinds(model).values(), model.model_fields.values(), strict=True)
            )
            if kind.adapter is not None
        ]

    def row(self, row: BaseModel) -> None:
        self._writer.writerow(self._cells(row))

    def values(self, rows: Iterable[Sequence[Any]]) -> None:
        """Rows given by their values in column order, as the model would hold them (no list
        column). Cells of str and int columns are written by the CSV writer itself, which
        writes them as `_cell` does; only the other columns' values are converted."""
        special = [
            index
            for index, field in enumerate(self._fields)
            if _unwrapped(field.annotation) not in (str, int)
        ]
        if not special:
            self._writer.writerows(rows)
            return
        for values in rows:
            cells = list(values)
            for index in special:
                cells[index] = _cell(cells[index])
            self._writer.writerow(cells)

    def encoded(self, row: BaseModel) -> bytes:
        """The line `row` would write (for `line`, when rows are encoded ahead of their turn)."""
        return encode_line(self._cells(row))

    def _cells(self, row: BaseModel) -> list[str]:
        values = self._values(row)
        # The common cells inline (exact str, int, None), no call; list cells are set below.
        cells = [
            value
            if (kind := type(value)) is str
            else str(value)
            if kind is int
            else ""
            if value is None or kind is list
            else _cell(value)
            for value in values
        ]
        for index, adapter, written in self._json:
            value = values[index]
            if value is None:
                cells[index] = ""
            elif not value:
                cells[index] = "[]"  # what the serializer writes for an empty list
            else:
                # Rows share their genre and platform models (frozen): a list of the very same
                # objects has the same text. The entry keeps them alive, so no other object
                # can have their ids while it is there.
                if written is None:
                    cells[index] = adapter.dump_json(value).decode()
                    continue
                key = tuple(map(id, value))
                found = written.get(key)
                if found is None:
                    text = adapter.dump_json(value).decode()
                    if len(written) < MAX_CACHED_JSON_CELLS:
                        written[key] = (tuple(value), text)
                    cells[index] = text
                else:
                    cells[index] = found[1]
        return cells

    def cells(self, cells: Sequence[str]) -> None:
        self._writer.writerow(cells)

    def line(self, data: bytes) -> None:
        """A row already encoded (`encode_line`)."""
        self._sink.chunks.append(data)

    def data(self) -> bytes:
        return b"".join(self._sink.chunks)


def encode_rows(rows: Iterable[BaseModel], model: type[BaseModel]) -> bytes:
    """The CSV bytes for `rows`, header first; columns in the model's field order."""
    encoder = RowEncoder(model)
    for row in rows:
        encoder.row(row)
    return encoder.data()


_LINE_SINK = _Utf8Chunks()
_LINE_WRITER = csv.writer(_LINE_SINK, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)


def encode_line(cells: Sequence[str]) -> bytes:
    """One CSV row as `RowEncoder` writes it: far smaller to keep than its cells."""
    _LINE_WRITER.writerow(cells)
    data = b"".join(_LINE_SINK.chunks)
    _LINE_SINK.chunks.clear()
    return data


def cells_of(row: BaseModel, columns: Sequence[str]) -> list[str]:
    """The CSV cells `encode_rows` writes for these columns of `row` (scalar columns only)."""
    return [_cell(getattr(row, column)) for column in columns]


def decode_rows(
    data: bytes, model: type[R], *, what: str = "CSV", unique: str | None = "appid"
) -> list[R]:
    """Rows read back exactly as written; any deviation is MALFORMED_CSV with a row number.

    When the model has the `unique` column, a value seen twice is malformed too.
    """
    return list(iter_rows(data, model, what=what, unique=unique))


def iter_rows(
    data: bytes, model: type[R], *, what: str = "CSV", unique: str | None = "appid"
) -> Iterator[R]:
    """`decode_rows` one row at a time, for callers that keep only some of them; the errors are
    the same, raised when the offending row (or the header) is reached."""
    expected = header_of(model)
    check_unique = unique is not None and unique in expected
    seen: dict[object, int] = {}
    # Genre and platform lists repeat across a library: each distinct cell is decoded once.
    json_cells: dict[str, Any] = {}
    for line_number, record in iter_records(data, model, what=what):
        row = parse_record(record, model, line_number, what=what, json_cells=json_cells)
        if check_unique:
            value = getattr(row, unique)  # type: ignore[arg-type]
            if value in seen:
                raise MalformedCsvError(
                    f"the {what} row on line {line_number} repeats {unique} {value} "
                    f"from line {seen[value]}"
                )
            seen[value] = line_number
        yield row


def iter_records(
    data: bytes, model: type[BaseModel], *, what: str = "CSV"
) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each row after the header, checked as `iter_rows` checks the file
    and the header; the cells are not validated (`parse_record` does that for a row that is
    kept). Cheap: a caller that compares cells decodes only the rows it needs."""
    _check_text(data, what)
    if csv.field_size_limit() <= MAX_FIELD_BYTES:
        csv.field_size_limit(MAX_FIELD_BYTES + 1)  # our own per-cell check gives the clear error
    # Decoded as it is read (same newline handling as a StringIO with newline=""), so the file
    # never exists as one str beside its rows; "utf-8-sig" drops one leading BOM.
    stream = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    reader = csv.reader(stream, strict=True)
    expected = header_of(model)
    try:
        header = next(reader, None)
        if header is None:
            raise MalformedCsvError(f"the {what} is empty: no header row")
        _check_header(header, expected, what)
        yield from enumerate(reader, start=2)
    except csv.Error as exc:
        raise MalformedCsvError(
            f"the {what} is not valid CSV near line {reader.line_num}: {exc}"
        ) from exc


def iter_lines(
    data: bytes, model: type[BaseModel], *, what: str = "CSV"
) -> Iterator[tuple[int, list[str], bytes]]:
    """`iter_records` with each record's own bytes as stored (line ending included), checked
    the same way: a caller that passes a row on unchanged keeps its bytes instead of encoding
    its cells again (equal to `encode_line(cells)` for a file this module wrote)."""
    _check_text(data, what)
    if csv.field_size_limit() <= MAX_FIELD_BYTES:
        csv.field_size_limit(MAX_FIELD_BYTES + 1)
    consumed: list[bytes] = []

    def lines() -> Iterator[str]:
        # Split as the text reader of `iter_records` splits (CR, LF or CRLF, kept); the reader
        # asks for one more line only while a quoted cell is open, so `consumed` is one record.
        physical = data.splitlines(keepends=True)
        if physical and physical[0].startswith(codecs.BOM_UTF8):
            consumed.append(physical[0][: len(codecs.BOM_UTF8)])
            physical[0] = physical[0][len(codecs.BOM_UTF8) :]
        for line in physical:
            consumed.append(line)
            yield line.decode("utf-8")

    reader = csv.reader(lines(), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise MalformedCsvError(f"the {what} is empty: no header row")
        _check_header(header, header_of(model), what)
        consumed.clear()
        for line_number, record in enumerate(reader, start=2):
            raw = consumed[0] if len(consumed) == 1 else b"".join(consumed)
            consumed.clear()
            yield line_number, record, raw
    except csv.Error as exc:
        raise MalformedCsvError(
            f"the {what} is not valid CSV near line {reader.line_num}: {exc}"
        ) from exc


def parse_record(
    record: list[str],
    model: type[R],
    line_number: int,
    *,
    what: str = "CSV",
    json_cells: dict[str, Any] | None = None,
) -> R:
    """The validated row of one record from `iter_records` (MALFORMED_CSV when it is not)."""
    return _parse_record(
        record,
        header_of(model),
        _column_kinds(model),
        model,
        line_number,
        what,
        {} if json_cells is None else json_cells,
    )


def appid_in_cell(cell: str) -> int | None:
    """The app id an `appid` cell holds when it is at most 10 ASCII digits, else None (the
    row's own validation, `parse_record`, says what is wrong with it): for callers that look
    a row up by its app id before deciding whether to parse it."""
    return int(cell) if len(cell) <= 10 and cell.isascii() and cell.isdigit() else None


def _check_text(data: bytes, what: str) -> None:
    """Refuse data that is not UTF-8, holds NUL bytes, or does not end with a line ending."""
    # Validated a slice at a time: one str of the whole file can take four bytes a character.
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    for start in range(0, len(data), _CHECK_SLICE):
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(
                view[start : start + _CHECK_SLICE], final=start + _CHECK_SLICE >= len(data)
            )
        except UnicodeDecodeError as exc:
            raise MalformedCsvError(
                f"the {what} is not UTF-8 (byte {start - pending + exc.start} cannot be decoded)"
            ) from exc
    if b"\x00" in data:
        raise MalformedCsvError(f"the {what} contains NUL bytes")
    if data and not data.endswith((b"\n", b"\r")):
        raise MalformedCsvError(f"the {what} is truncated: its last row has no line ending")


def _check_header(header: Sequence[str], expected: list[str], what: str) -> None:
    if list(header) == expected:
        return
    missing = [column for column in expected if column not in header]
    extra = [column for column in header if column not in expected]
    duplicated = sorted({column for column in header if list(header).count(column) > 1})
    problems = []
    if missing:
        problems.append(f"missing {_listed(missing)}")
    if extra:
        problems.append(f"unexpected {_listed(extra)}")
    if duplicated:
        problems.append(f"duplicated {_listed(duplicated)}")
    if not problems:
        problems.append("columns are in a different order")
    raise MalformedCsvError(f"the {what} header does not match: {'; '.join(problems)}")


def _listed(columns: Sequence[str], *, most: int = 5, width: int = 40) -> str:
    """Column names for a message, bounded: a hostile header must not make a megabyte error."""
    shown = [name if len(name) <= width else name[: width - 3] + "..." for name in columns[:most]]
    more = f" and {len(columns) - most} more" if len(columns) > most else ""
    return ", ".join(shown) + more


def _parse_record(
    record: list[str],
    columns: list[str],
    kinds: dict[str, _Kind],
    model: type[R],
    line_number: int,
    what: str,
    json_cells: dict[str, Any],
) -> R:
    if len(record) != len(columns):
        raise MalformedCsvError(
            f"the {what} row on line {line_number} has {len(record)} fields, "
            f"expected {len(columns)}"
        )
    values: dict[str, Any] = {}
    for column, cell in zip(columns, record, strict=True):
        if len(cell) > MAX_FIELD_BYTES:
            raise MalformedCsvError(
                f"the {what} row on line {line_number}: {column} is longer than "
                f"{MAX_FIELD_BYTES} characters"
            )
        kind = kinds[column]
        if cell == "" and kind.optional:
            values[column] = None
        elif kind.is_json:
            key = f"{column}\x00{cell}"
            if key not in json_cells:
                row_at = f"the {what} row on line {line_number}"
                decoded = _json_cell(cell, f"{row_at}: {column}")
                validated = _validated_cell(decoded, kind, row_at, column)
                if len(json_cells) < MAX_CACHED_JSON_CELLS and len(cell) <= MAX_CACHED_JSON_CHARS:
                    json_cells[key] = validated
                values[column] = validated
            else:
                # The models are frozen, so rows may share them; the row copies the list.
                values[column] = json_cells[key]
        elif kind.is_int:
            if len(cell) > MAX_NUMBER_CHARS or not _STRICT_INT.fullmatch(cell):
                raise MalformedCsvError(
                    f"the {what} row on line {line_number}: {column} is not an integer "
                    "(ASCII digits, optional leading minus)"
                )
            values[column] = int(cell)
        else:
            values[column] = cell
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(part) for part in first["loc"])
        raise MalformedCsvError(
            f"the {what} row on line {line_number}: {location}: {first['msg']}"
        ) from exc


def _validated_cell(value: Any, kind: _Kind, row_at: str, column: str) -> Any:
    """A decoded JSON cell validated as its column's type (located as the row's model would)."""
    if kind.adapter is None:
        return value
    try:
        return kind.adapter.validate_python(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(part) for part in (column, *first["loc"]))
        raise MalformedCsvError(f"{row_at}: {location}: {first['msg']}") from exc


class _JsonRefused(ValueError):
    """Raised from inside the JSON decoder's hooks: a value the cell may not hold."""


def _bounded_number(text: str) -> str:
    if len(text) > MAX_NUMBER_CHARS:
        raise _JsonRefused(f"holds a number of {len(text)} characters")
    return text


def _bounded_float(text: str) -> float:
    value = float(_bounded_number(text))
    if not math.isfinite(value):
        raise _JsonRefused(f"holds {text}, beyond what a float holds")
    return value


def _no_constant(text: str) -> None:
    raise _JsonRefused(f"holds {text}, which is not JSON")


def _json_depth_exceeds(cell: str, limit: int) -> bool:
    """Whether brackets nest deeper than `limit`, in C-speed regex passes (no recursion): strings
    are blanked out, then each pass folds the innermost brackets. Unbalanced brackets stop the
    folding early and are left to the decoder to report as invalid JSON."""
    if cell.count("[") + cell.count("{") <= limit:  # too few brackets to nest that deep
        return False
    structure = _JSON_STRING.sub("0", cell) if '"' in cell else cell
    for _ in range(limit):
        if "[" not in structure and "{" not in structure:
            return False
        folded = _JSON_INNERMOST.sub("0", structure)
        if folded == structure:
            return False
        structure = folded
    return "[" in structure or "{" in structure


def _json_cell(cell: str, where: str) -> Any:
    """A JSON list cell decoded within bounds: depth, number size, no NUL or lone surrogate."""
    if not cell:
        return []
    if _json_depth_exceeds(cell, MAX_JSON_DEPTH):
        raise MalformedCsvError(f"{where} nests JSON deeper than {MAX_JSON_DEPTH} levels")
    # The int hook costs a Python call per number: it is only needed when a digit run is long
    # enough to make a number over the bound (most cells have none).
    bounded_int = (lambda text: int(_bounded_number(text))) if _LONG_DIGITS.search(cell) else None
    try:
        value = json.loads(
            cell,
            parse_int=bounded_int,
            parse_float=_bounded_float,
            parse_constant=_no_constant,
        )
    except _JsonRefused as exc:
        raise MalformedCsvError(f"{where} {exc}") from exc
    except (json.JSONDecodeError, RecursionError) as exc:
        raise MalformedCsvError(f"{where} is not valid JSON") from exc
    # The raw bytes are checked for NUL and are valid UTF-8, so a NUL or a surrogate can only
    # arrive as a JSON escape: check the decoded text only when the cell has one.
    if "\\u" in cell and _holds_forbidden_text(value):
        raise MalformedCsvError(f"{where} holds a NUL or a lone surrogate (escaped in JSON)")
    return value


def _holds_forbidden_text(value: Any) -> bool:
    if isinstance(value, str):
        return _FORBIDDEN_TEXT.search(value) is not None
    if isinstance(value, list):
        return any(_holds_forbidden_text(item) for item in value)
    if isinstance(value, dict):
        return any(
            _holds_forbidden_text(key) or _holds_forbidden_text(item) for key, item in value.items()
        )
    return False
