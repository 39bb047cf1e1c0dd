"""prisma/schema.prisma, read by Prisma's own parser, agrees field by field with models/db.py."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import DateTime, Enum, Integer, Table, Text
from tests.node_packages import npm_ci

from lambdas.models.db import metadata

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = ROOT / "prisma" / "schema.prisma"
#: package.json + package-lock.json pin Prisma's parser (@prisma/prisma-schema-wasm, the parser of
#: Prisma 7.6.0, the app's version) so the contract is read one way; `npm ci` installs it there.
PARSER_DIR = ROOT / "tests" / "prisma-parser"
SCRIPT = Path(__file__).with_name("prisma_dmmf.mjs")

SCALARS: dict[str, type[Any]] = {"String": Text, "Int": Integer, "DateTime": DateTime}

pytestmark = pytest.mark.node


@pytest.fixture(scope="module")
def dmmf() -> dict[str, Any]:
    npm_ci(PARSER_DIR, "the Prisma contract tests (Prisma's parser)")
    done = subprocess.run(
        ["node", str(SCRIPT), str(PARSER_DIR), str(SCHEMA)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"Prisma's parser failed on {SCHEMA}:\n{done.stderr.strip()}", pytrace=False)
    return json.loads(done.stdout)["datamodel"]  # type: ignore[no-any-return]


def _table(name: str) -> Table:
    return metadata.tables[name]


def _models(dmmf: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {model["name"]: model for model in dmmf["models"]}


def test_same_models_and_tables(dmmf: dict[str, Any]) -> None:
    assert set(_models(dmmf)) == set(metadata.tables)


def test_same_enums_and_values(dmmf: dict[str, Any]) -> None:
    prisma = {enum["name"]: [value["name"] for value in enum["values"]] for enum in dmmf["enums"]}
    ours = {
        column.type.name: list(column.type.enums)
        for table in metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, Enum)
    }
    assert prisma == ours


def _scalar_fields(model: dict[str, Any]) -> list[dict[str, Any]]:
    return [field for field in model["fields"] if field["kind"] in {"scalar", "enum"}]


def _field_cases(dmmf: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(model["name"], field) for model in dmmf["models"] for field in _scalar_fields(model)]


def test_same_columns_per_table(dmmf: dict[str, Any]) -> None:
    for name, model in _models(dmmf).items():
        assert [f["name"] for f in _scalar_fields(model)] == list(_table(name).columns.keys()), name


def test_every_field_agrees(dmmf: dict[str, Any]) -> None:
    mismatches: list[str] = []
    for model_name, field in _field_cases(dmmf):
        column = _table(model_name).columns[field["name"]]
        where = f"{model_name}.{field['name']}"
        if field["kind"] == "enum":
            ok = isinstance(column.type, Enum) and column.type.name == field["type"]
        else:
            ok = isinstance(column.type, SCALARS[field["type"]])
        if not ok:
            mismatches.append(f"{where}: type {field['type']} vs {column.type!r}")
        if field["isRequired"] == column.nullable:
            mismatches.append(
                f"{where}: required={field['isRequired']} vs nullable={column.nullable}"
            )
        if field["isId"] != (
            column.primary_key and len(_table(model_name).primary_key.columns) == 1
        ):
            mismatches.append(f"{where}: @id disagrees")
        expected_default = _server_default(field)
        actual_default = column.server_default.arg.text if column.server_default else None  # type: ignore[attr-defined]
        if expected_default != actual_default:
            mismatches.append(f"{where}: default {expected_default!r} vs {actual_default!r}")
        if field["isUpdatedAt"] and column.server_default is not None:
            mismatches.append(f"{where}: @updatedAt must have no database default")
        default = field.get("default")
        autoincrement = isinstance(default, dict) and default["name"] == "autoincrement"
        if autoincrement and not (column.primary_key and column.autoincrement is True):
            mismatches.append(f"{where}: autoincrement disagrees")
    assert mismatches == []


def _server_default(field: dict[str, Any]) -> str | None:
    """The database default Prisma's migrations give a field (cuid() and @updatedAt: none)."""
    default = field.get("default")
    if default is None:
        return None
    if isinstance(default, dict):
        return {"now": "CURRENT_TIMESTAMP"}.get(default["name"])
    if field["kind"] == "enum":
        return f"'{default}'"
    return str(default)


def test_same_indexes_uniques_and_primary_keys(dmmf: dict[str, Any]) -> None:
    prisma = {
        (index["model"], index["type"], tuple(field["name"] for field in index["fields"]))
        for index in dmmf["indexes"]
    }
    ours: set[tuple[str, str, tuple[str, ...]]] = set()
    for table in metadata.tables.values():
        ours.add((table.name, "id", tuple(column.name for column in table.primary_key.columns)))
        assert table.primary_key.name == f"{table.name}_pkey"
        for index in table.indexes:
            columns = tuple(column.name for column in index.columns)
            kind = "unique" if index.unique else "normal"
            ours.add((table.name, kind, columns))
            suffix = "key" if index.unique else "idx"
            assert index.name == f"{table.name}_{'_'.join(columns)}_{suffix}"
    assert prisma == ours


def test_same_relations(dmmf: dict[str, Any]) -> None:
    prisma = {
        (
            model["name"],
            tuple(field["relationFromFields"]),
            field["type"],
            tuple(field["relationToFields"]),
            field.get("relationOnDelete", "Restrict").upper(),
        )
        for model in dmmf["models"]
        for field in model["fields"]
        if field["kind"] == "object" and field.get("relationFromFields")
    }
    ours = set()
    for table in metadata.tables.values():
        for fk in table.foreign_key_constraints:
            columns = tuple(column.name for column in fk.columns)
            assert fk.name == f"{table.name}_{'_'.join(columns)}_fkey"
            assert fk.onupdate == "CASCADE"
            ours.add(
                (
                    table.name,
                    columns,
                    fk.referred_table.name,
                    tuple(element.column.name for element in fk.elements),
                    str(fk.ondelete),
                )
            )
    assert prisma == ours
