"""The layering in docs/architecture.md holds: each package imports only the ones below it.

Every `import` in src/ is read (module level and inside functions alike) and checked against
`MAY_IMPORT`; the "may be imported by" column of the document's package table must say exactly
what `MAY_IMPORT` implies, so the picture cannot drift from the code.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"

_FOUNDATION = {"errors", "config", "logging", "models", "collector"}
_STAGE = _FOUNDATION | {"clients"}

#: Package (a subpackage or top-level module of `lambdas`, or the emulator) → what it may import.
MAY_IMPORT: dict[str, set[str]] = {
    "version": set(),  # lambdas/__init__.py
    "errors": set(),
    "logging": set(),
    "collector": set(),
    "config": {"errors"},
    "models": {"errors"},
    "clients": {"errors", "config", "logging", "models"},
    "steam": _STAGE,
    "enrichment": _STAGE,
    "sql": {"errors", "config"},
    "state": _FOUNDATION | {"sql"},
    "database": _STAGE | {"sql", "state"},
    "stages": _STAGE | {"steam", "enrichment", "sql", "state", "database"},
    "pipeline": _STAGE | {"stages", "database"},
    "review": _STAGE | {"enrichment", "sql", "state", "database"},
    "sync": _STAGE | {"stages", "pipeline", "sql", "database"},
    "handlers": _STAGE | {"stages", "sync"},
    "migrations": {"models", "state"},
    "cli": _STAGE
    | {"steam", "enrichment", "database", "stages", "pipeline", "review", "sync", "handlers"}
    | {"steam_sandbox", "version"},
    "__main__": {"cli"},
    "steam_sandbox": {"models"},
}


def _package_of(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    if parts[0] == "steam_sandbox":
        return "steam_sandbox"
    return parts[1] if len(parts) > 1 and parts[1] != "__init__" else "version"


def _imports(tree: ast.AST) -> Iterator[tuple[str, int]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno
            if node.module == "lambdas":
                for alias in node.names:
                    yield f"lambdas.{alias.name}", node.lineno


def _target(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "steam_sandbox":
        return "steam_sandbox"
    if parts[0] != "lambdas":
        return None
    if len(parts) == 1 or parts[1] == "__version__":
        return "version"
    return parts[1]


def test_every_import_follows_the_layering() -> None:
    wrong: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        package = _package_of(path)
        assert package in MAY_IMPORT, f"{path}: package {package!r} is not in the table"
        for module, line in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            target = _target(module)
            if target is None or target == package:
                continue
            if target not in MAY_IMPORT[package]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} {package} imports {module}")
    assert not wrong, "\n".join(wrong)


def test_the_product_imports_the_emulator_only_lazily_in_the_cli() -> None:
    for path in sorted((SRC / "lambdas").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module_level = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
        for node in module_level:
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            assert not any(name and name.startswith("steam_sandbox") for name in names), path
        if any(_target(module) == "steam_sandbox" for module, _ in _imports(tree)):
            assert path.relative_to(SRC).parts[:2] == ("lambdas", "cli"), path


def _documented_importers() -> dict[str, set[str]]:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    table: dict[str, set[str]] = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        name = cells[0].strip("`").removeprefix("lambdas.").removesuffix("/").removesuffix(".py")
        table[name] = set(re.findall(r"`([\w.]+)`", cells[2])) - {"—"}
    return table


def test_architecture_doc_says_who_may_import_each_package() -> None:
    importers = {package: set[str]() for package in MAY_IMPORT}
    for package, allowed in MAY_IMPORT.items():
        for target in allowed:
            importers[target].add(package)
    documented = _documented_importers()
    undocumented = {"__main__", "version"}  # entry points, not packages
    expected = {name: users for name, users in importers.items() if name not in undocumented}
    assert set(documented) == set(expected)
    for name, users in expected.items():
        assert documented[name] == users, name


def _imports_of_functions(path: Path, names: set[str]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in names:
            found |= {module for module, _ in _imports(node) if module.startswith("lambdas.")}
    return found


def test_stage_two_reads_own_state_and_never_loads_the_apps_schema_package() -> None:
    """Stage 2 as its Lambda runs it: the handler, the enrichment, and what the stage function
    (and the sync's prefetch) import when called load `lambdas.state`, never `lambdas.database`."""
    called = _imports_of_functions(
        SRC / "lambdas" / "stages.py",
        {"enrichment_stage", "prefetch_shared_cache", "database", "engine_for"},
    )
    assert "lambdas.state.app_cache" in called
    modules = ["lambdas.handlers.igdb_enrichment", "lambdas.enrichment.enrich", *sorted(called)]
    probe = (
        "import importlib, json, sys\n"
        "for name in sys.argv[1:]:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('lambdas.'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *modules], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert "lambdas.state" in loaded
    assert [name for name in loaded if name.split(".")[1] == "database"] == []
