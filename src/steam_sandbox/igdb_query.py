"""Executes a parsed Apicalypse query on the IGDB store: filter, search, sort, page, project."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from steam_sandbox.apicalypse_ast import (
    ApicalypseError,
    BoolOp,
    Comparison,
    Expr,
    ListValue,
    LiteralValue,
    Not,
    Pattern,
    Query,
    Scalar,
)
from steam_sandbox.igdb_schema import DEPRECATED_FIELDS, SCHEMA, SEARCHABLE, FieldSpec
from steam_sandbox.igdb_store import IgdbStore, Row, index_key

DEFAULT_LIMIT = 10
CategoryMode = Literal["omitted", "populated", "error"]
Predicate = Callable[[Row], bool]
Getter = Callable[[Row], Any]
_NUMERIC_OPS = {">": "__gt__", ">=": "__ge__", "<": "__lt__", "<=": "__le__"}


@dataclass(slots=True)
class _Tree:
    star: bool = False
    children: dict[str, _Tree | None] = field(default_factory=dict)
    excluded: set[str] = field(default_factory=set)


class QueryEngine:
    """Runs queries for one store under one ``category_mode`` (deprecated enum fields)."""

    def __init__(self, store: IgdbStore, category_mode: CategoryMode = "omitted") -> None:
        self._store = store
        self._mode = category_mode

    def run(self, endpoint: str, query: Query) -> list[Row]:
        """Rows the query selects, projected to its fields (``id`` always present)."""
        rows = self._select(endpoint, query)
        offset = query.offset or 0
        limit = DEFAULT_LIMIT if query.limit is None else query.limit
        page = rows[offset : offset + limit]
        project = self._projector(endpoint, self._tree(endpoint, query), {})
        return [project(row) for row in page]

    def count(self, endpoint: str, query: Query) -> int:
        """How many rows the query's ``where``/``search`` select."""
        return len(self._select(endpoint, query))

    # -- selection ---------------------------------------------------------------------------

    def _select(self, endpoint: str, query: Query) -> list[Row]:
        table = self._store.rows[endpoint]
        predicate = self._predicate(endpoint, query.where) if query.where else None
        candidates = self._candidates(endpoint, query.where) if query.where else None
        rows: Iterable[Row] = (
            table.values() if candidates is None else (table[i] for i in sorted(candidates))
        )
        selected = [r for r in rows if predicate(r)] if predicate else list(rows)
        if query.search is not None:
            selected = self._search(endpoint, selected, query.search)
        elif query.sort is not None:
            selected = self._sort(endpoint, selected, query.sort.field, query.sort.descending)
        return selected

    def _search(self, endpoint: str, rows: list[Row], text: str) -> list[Row]:
        if endpoint not in SEARCHABLE:
            raise ApicalypseError(f"Search is not available on endpoint '{endpoint}'")
        needle = text.casefold()
        words = needle.split()
        ranked: list[tuple[int, int, Row]] = []
        for row in rows:
            name = str(row.get("name", "")).casefold()
            if not all(w in name for w in words):
                continue
            rank = 0 if name == needle else 1 if name.startswith(needle) else 2
            ranked.append((rank, row["id"], row))
        ranked.sort(key=lambda item: (item[0], item[1]))
        return [row for _, _, row in ranked]

    def _sort(self, endpoint: str, rows: list[Row], path: str, descending: bool) -> list[Row]:
        spec, getter = self._getter(endpoint, path)
        if spec.is_list:
            raise ApicalypseError(f"Cannot sort on list field '{path}'")
        keyed = [(getter(r), r) for r in rows]
        present = [kr for kr in keyed if kr[0] is not None and not isinstance(kr[0], list)]
        present.sort(key=lambda kr: (kr[0], kr[1]["id"]), reverse=descending)
        missing = [r for v, r in keyed if v is None or isinstance(v, list)]
        return [r for _, r in present] + missing

    def _candidates(self, endpoint: str, expr: Expr) -> set[int] | None:
        """Ids that may match, from indexes; None when the whole table must be scanned."""
        if isinstance(expr, BoolOp):
            parts = [self._candidates(endpoint, item) for item in expr.items]
            if expr.op == "and":
                known = [p for p in parts if p is not None]
                return set.intersection(*known) if known else None
            if any(p is None for p in parts):
                return None
            return set().union(*(p for p in parts if p is not None))
        if not isinstance(expr, Comparison) or expr.op != "=" or "." in expr.field:
            return None
        if expr.field in self._hidden(endpoint):
            return None
        value = expr.value
        keys: list[Scalar]
        if isinstance(value, LiteralValue) and value.value is not None:
            keys, mode = [value.value], "any"
        elif isinstance(value, ListValue) and not value.negated and value.mode != "exact":
            keys, mode = [item.value for item in value.items], value.mode
        else:
            return None
        if expr.field == "id":
            table = self._store.rows[endpoint]
            found = {k for k in keys if isinstance(k, int) and k in table}
            return found if mode == "any" or len(set(keys)) <= 1 else set()
        index = self._store.index(endpoint, expr.field)
        groups = [set(index.get(index_key(k), ())) for k in keys]
        return set().union(*groups) if mode == "any" else set.intersection(*groups)

    # -- where compilation -------------------------------------------------------------------

    def _predicate(self, endpoint: str, expr: Expr) -> Predicate:
        if isinstance(expr, Not):
            inner = self._predicate(endpoint, expr.item)
            return lambda row: not inner(row)
        if isinstance(expr, BoolOp):
            parts = [self._predicate(endpoint, item) for item in expr.items]
            if expr.op == "and":
                return lambda row: all(p(row) for p in parts)
            return lambda row: any(p(row) for p in parts)
        spec, getter = self._getter(endpoint, expr.field)
        test = _value_test(spec, expr)
        return lambda row: test(getter(row))

    def _getter(self, endpoint: str, path: str) -> tuple[FieldSpec, Getter]:
        names = path.split(".")
        specs = self._resolve(endpoint, names, path)
        hidden = self._hidden(endpoint)
        head = names[0]
        if len(names) == 1:
            if head in hidden:
                return specs[-1], lambda row: None
            return specs[0], lambda row: row.get(head)
        first = specs[0]
        assert first.target is not None
        target_rows = self._store.rows[first.target]
        _, rest = self._getter(first.target, ".".join(names[1:]))

        def get(row: Row) -> Any:
            ref = row.get(head)
            if ref is None:
                return None
            if not isinstance(ref, list):
                target = target_rows.get(ref)
                return None if target is None else rest(target)
            out: list[Any] = []
            for item in ref:
                target = target_rows.get(item)
                value = None if target is None else rest(target)
                if isinstance(value, list):
                    out.extend(value)
                elif value is not None:
                    out.append(value)
            return out

        return specs[-1], get

    def _resolve(self, endpoint: str, names: list[str], path: str) -> list[FieldSpec]:
        """Specs along a dotted path; unknown names or expanding a non-reference → 400."""
        specs: list[FieldSpec] = []
        current: str | None = endpoint
        for position, name in enumerate(names):
            schema = SCHEMA[current] if current else {}
            spec = schema.get(name)
            if spec is None or name in self._forbidden(current or ""):
                raise ApicalypseError(f"Invalid field name: '{path}'", title="Invalid Field")
            if position < len(names) - 1 and spec.target is None:
                raise ApicalypseError(f"Invalid field name: '{path}'", title="Invalid Field")
            specs.append(spec)
            current = spec.target
        return specs

    def _hidden(self, endpoint: str) -> frozenset[str]:
        if self._mode == "omitted":
            return DEPRECATED_FIELDS.get(endpoint, frozenset())
        return frozenset()

    def _forbidden(self, endpoint: str) -> frozenset[str]:
        if self._mode == "error":
            return DEPRECATED_FIELDS.get(endpoint, frozenset())
        return frozenset()

    # -- projection --------------------------------------------------------------------------

    def _tree(self, endpoint: str, query: Query) -> _Tree:
        root = _Tree()
        for path in query.fields:
            node, current = root, endpoint
            names = path.split(".")
            for position, name in enumerate(names):
                if name == "*":
                    if position != len(names) - 1:
                        raise ApicalypseError(
                            f"Invalid field name: '{path}'", title="Invalid Field"
                        )
                    node.star = True
                    break
                if position == len(names) - 1:
                    self._resolve(current, [name], path)
                    node.children.setdefault(name, None)
                    break
                spec = self._resolve(current, [name, "id"], path)[0]
                child = node.children.get(name)
                if child is None:
                    child = _Tree()
                    node.children[name] = child
                node, current = child, str(spec.target)
        for path in query.exclude:
            names = path.split(".")
            node, current = root, endpoint
            for name in names[:-1]:
                spec = self._resolve(current, [name, "id"], path)[0]
                sub = node.children.get(name)
                if sub is None:
                    break
                node, current = sub, str(spec.target)
            else:
                self._resolve(current, [names[-1]], path)
                node.excluded.add(names[-1])
                node.children.pop(names[-1], None)
        return root

    def _projector(
        self, endpoint: str, tree: _Tree, memo: dict[tuple[str, int], Callable[[Row], Row]]
    ) -> Callable[[Row], Row]:
        schema = SCHEMA[endpoint]
        hidden = self._hidden(endpoint) | self._forbidden(endpoint) | tree.excluded
        names = [n for n in schema if n != "id"] if tree.star else list(tree.children)
        plan: list[tuple[str, bool, dict[int, Row] | None, Callable[[Row], Row] | None]] = []
        for name in names:
            if name in hidden or name == "id":
                continue
            sub = tree.children.get(name)
            spec = schema[name]
            if sub is None or spec.target is None:
                plan.append((name, False, None, None))
                continue
            plan.append(
                (
                    name,
                    spec.is_list,
                    self._store.rows[spec.target],
                    _cached(self._projector(spec.target, sub, memo)),
                )
            )

        def project(row: Row) -> Row:
            out: Row = {"id": row["id"]}
            for name, is_list, target_rows, sub_project in plan:
                value = row.get(name)
                if value is None:
                    continue
                if target_rows is None or sub_project is None:
                    out[name] = value
                elif is_list:
                    out[name] = [
                        sub_project(target_rows[i]) if i in target_rows else i for i in value
                    ]
                else:
                    target = target_rows.get(value)
                    out[name] = value if target is None else sub_project(target)
            return out

        return project


def _cached(project: Callable[[Row], Row]) -> Callable[[Row], Row]:
    """Memoize a sub-projection per row id for the duration of one query."""
    cache: dict[int, Row] = {}

    def run(row: Row) -> Row:
        found = cache.get(row["id"])
        if found is None:
            found = project(row)
            cache[row["id"]] = found
        return found

    return run


def _check_literal(spec: FieldSpec, literal: LiteralValue) -> None:
    if literal.value is None:
        return
    if spec.is_string and not literal.is_string:
        raise ApicalypseError(
            "Expecting a STRING as input, surround your input with quotes starting at "
            f"'{literal.raw}' expecting {{'{{', '(', '[', '\"', 'null'}}"
        )
    if not spec.is_string and literal.is_string:
        raise ApicalypseError(f"Expecting a NUMBER or BOOLEAN as input, got {literal.raw}")


def _value_test(spec: FieldSpec, expr: Comparison) -> Callable[[Any], bool]:
    """Compile ``<op> <value>`` into a test of a field value (scalar, list or None)."""
    op, value = expr.op, expr.value
    negate = op == "!="
    if isinstance(value, Pattern):
        if not spec.is_string or op in _NUMERIC_OPS:
            raise ApicalypseError(f"String patterns need a string field: '{expr.field}'")
        test = _pattern_test(value, fold=op == "~")
    elif isinstance(value, ListValue):
        for item in value.items:
            _check_literal(spec, item)
        if op in _NUMERIC_OPS:
            raise ApicalypseError(f"Operator '{op}' cannot take a list")
        test = _list_test(value, fold=op == "~")
        negate = negate != value.negated
    else:
        _check_literal(spec, value)
        if op in _NUMERIC_OPS:
            if value.value is None or spec.is_string or isinstance(value.value, bool):
                raise ApicalypseError(f"Operator '{op}' needs a number: '{expr.field}'")
            method = _NUMERIC_OPS[op]
            bound = value.value

            def compare(v: Any) -> bool:
                if isinstance(v, list):
                    return any(getattr(e, method)(bound) is True for e in v)
                return v is not None and getattr(v, method)(bound) is True

            return compare
        test = _literal_test(value.value, fold=op == "~")
    if negate:
        return lambda v: not test(v)
    return test


def _literal_test(expected: Any, *, fold: bool) -> Callable[[Any], bool]:
    if expected is None:
        return lambda v: v is None or v == []
    if fold and isinstance(expected, str):
        folded = expected.casefold()
        return lambda v: (
            any(isinstance(e, str) and e.casefold() == folded for e in v)
            if isinstance(v, list)
            else isinstance(v, str) and v.casefold() == folded
        )
    key = index_key(expected)
    return lambda v: (
        any(index_key(e) == key for e in v) if isinstance(v, list) else index_key(v) == key
    )


def _pattern_test(pattern: Pattern, *, fold: bool) -> Callable[[Any], bool]:
    text = pattern.text.casefold() if fold else pattern.text

    def one(v: Any) -> bool:
        if not isinstance(v, str):
            return False
        s = v.casefold() if fold else v
        if pattern.mode == "prefix":
            return s.startswith(text)
        if pattern.mode == "suffix":
            return s.endswith(text)
        return text in s

    return lambda v: any(one(e) for e in v) if isinstance(v, list) else one(v)


def _list_test(value: ListValue, *, fold: bool) -> Callable[[Any], bool]:
    def norm(x: Any) -> Any:
        return x.casefold() if fold and isinstance(x, str) else index_key(x)

    wanted = frozenset(norm(item.value) for item in value.items)

    def values(v: Any) -> set[Any]:
        if v is None:
            return {None} if None in wanted else set()
        return {norm(e) for e in v} if isinstance(v, list) else {norm(v)}

    if value.mode == "any":
        return lambda v: not wanted.isdisjoint(values(v))
    if value.mode == "all":
        return lambda v: wanted <= values(v)
    return lambda v: values(v) == wanted
