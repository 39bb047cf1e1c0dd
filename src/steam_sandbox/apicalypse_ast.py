"""Syntax tree and error types produced by the Apicalypse parser."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Scalar = str | int | float | bool | None


class ApicalypseError(Exception):
    """A query IGDB would reject with 400; ``title`` and ``cause`` become the error body."""

    def __init__(self, cause: str, title: str = "Syntax Error") -> None:
        super().__init__(cause)
        self.title = title
        self.cause = cause

    def body(self) -> list[dict[str, object]]:
        """The JSON error array IGDB answers with."""
        return [{"title": self.title, "status": 400, "cause": self.cause}]


@dataclass(frozen=True, slots=True)
class Token:
    """One lexical token; ``value`` is the decoded string or number."""

    kind: Literal["ident", "string", "number", "op", "eof"]
    text: str
    value: Scalar
    pos: int


@dataclass(frozen=True, slots=True)
class LiteralValue:
    """A string, number, boolean or null written in a query."""

    value: Scalar
    raw: str
    is_string: bool


@dataclass(frozen=True, slots=True)
class Pattern:
    """A string match: ``"x"*`` prefix, ``*"x"`` suffix or ``*"x"*`` infix."""

    mode: Literal["prefix", "suffix", "infix"]
    text: str


@dataclass(frozen=True, slots=True)
class ListValue:
    """``(…)`` any-of, ``[…]`` all-of or ``{…}`` exact set, optionally negated with ``!``."""

    mode: Literal["any", "all", "exact"]
    negated: bool
    items: tuple[LiteralValue, ...]


Value = LiteralValue | Pattern | ListValue


@dataclass(frozen=True, slots=True)
class Comparison:
    """``field <op> value`` with op one of = != > >= < <= ~."""

    field: str
    op: str
    value: Value


@dataclass(frozen=True, slots=True)
class BoolOp:
    """Conjunction (``&``) or disjunction (``|``) of conditions."""

    op: Literal["and", "or"]
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """``!(…)`` negation of a condition."""

    item: Expr


Expr = Comparison | BoolOp | Not


@dataclass(frozen=True, slots=True)
class Sort:
    """``sort field asc|desc``."""

    field: str
    descending: bool


@dataclass(frozen=True, slots=True)
class Query:
    """One parsed Apicalypse query; unset statements are None or empty."""

    fields: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    where: Expr | None = None
    sort: Sort | None = None
    limit: int | None = None
    offset: int | None = None
    search: str | None = None


@dataclass(frozen=True, slots=True)
class SubQuery:
    """One ``query <endpoint>[/count] "<name>" { … };`` block of a multiquery."""

    endpoint: str
    count: bool
    name: str
    query: Query
