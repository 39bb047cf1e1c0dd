"""Lossless CSV encoding of row models: RFC 4180, UTF-8, a fixed header, JSON for list columns."""

from __future__ import annotations

import codecs
import csv
import io
import json
import types
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from lambdas.errors import MalformedCsvError

R = TypeVar("R", bound=BaseModel)

_CHECK_SLICE = 1 << 20  # bytes of UTF-8 validated at a time
MAX_FIELD_BYTES = 1_000_000  # one cell; Steam names are short, JSON lists stay far below this


def header_of(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


@cache
def _column_kinds(model: type[BaseModel]) -> dict[str, tuple[bool, bool]]:
    """For each column: (holds JSON, may be empty → None)."""
    kinds: dict[str, tuple[bool, bool]] = {}
    for name, field in model.model_fields.items():
        annotation = field.annotation
        args = get_args(annotation)
        optional = get_origin(annotation) in (Union, types.UnionType) and type(None) in args
        inner = (
            next((arg for arg in args if arg is not type(None)), annotation)
            if optional
            else annotation
        )
        is_json = get_origin(inner) in (list, dict) or inner in (list, dict)
        kinds[name] = (is_json, optional)
    return kinds


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


class _Utf8Chunks:
    """A write-only text sink that keeps UTF-8 bytes per write, so no whole-file str is built."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, text: str) -> int:
        self.chunks.append(text.encode("utf-8"))
        return len(text)


def encode_rows(rows: Iterable[BaseModel], model: type[BaseModel]) -> bytes:
    """The CSV bytes for `rows`, header first; columns in the model's field order."""
    sink = _Utf8Chunks()
    writer = csv.writer(sink, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    columns = header_of(model)
    writer.writerow(columns)
    for row in rows:
        dumped = row.model_dump(mode="json")
        writer.writerow([_cell(dumped[column]) for column in columns])
    return b"".join(sink.chunks)


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
        kinds = _column_kinds(model)
        check_unique = unique is not None and unique in expected
        seen: dict[object, int] = {}
        for line_number, record in enumerate(reader, start=2):
            row = _parse_record(record, expected, kinds, model, line_number, what)
            if check_unique:
                value = getattr(row, unique)  # type: ignore[arg-type]
                if value in seen:
                    raise MalformedCsvError(
                        f"the {what} row on line {line_number} repeats {unique} {value} "
                        f"from line {seen[value]}"
                    )
                seen[value] = line_number
            yield row
    except csv.Error as exc:
        raise MalformedCsvError(
            f"the {what} is not valid CSV near line {reader.line_num}: {exc}"
        ) from exc


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
    kinds: dict[str, tuple[bool, bool]],
    model: type[R],
    line_number: int,
    what: str,
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
        is_json, optional = kinds[column]
        if cell == "" and optional:
            values[column] = None
        elif is_json:
            try:
                values[column] = json.loads(cell) if cell else []
            except json.JSONDecodeError as exc:
                raise MalformedCsvError(
                    f"the {what} row on line {line_number}: {column} is not valid JSON"
                ) from exc
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
