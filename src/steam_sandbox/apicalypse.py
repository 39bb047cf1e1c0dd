"""Parses Apicalypse query text (single queries and multiquery blocks) into a small syntax tree."""

from __future__ import annotations

import re
from typing import Final, Literal, NoReturn

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
    Sort,
    SubQuery,
    Token,
    Value,
)

__all__ = [
    "ApicalypseError",
    "BoolOp",
    "Comparison",
    "Expr",
    "ListValue",
    "LiteralValue",
    "Not",
    "Pattern",
    "Query",
    "Scalar",
    "Sort",
    "SubQuery",
    "parse_multiquery",
    "parse_query",
    "tokenize",
]

MAX_LIMIT: Final = 500
MAX_SUBQUERIES: Final = 10


_TOKEN_RE: Final = re.compile(
    r"""(?P<ws>\s+)
    |(?P<string>"(?:[^"\\]|\\.)*")
    |(?P<number>-?\d+(?:\.\d+)?)
    |(?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.(?:[A-Za-z_][A-Za-z0-9_]*|\*))*)
    |(?P<op>!=|>=|<=|[=<>~!&|()\[\]{},;*/])""",
    re.VERBOSE | re.DOTALL,
)
_ESCAPE_RE: Final = re.compile(r"\\(.)", re.DOTALL)
_KEYWORDS: Final = {
    "fields": "fields",
    "f": "fields",
    "exclude": "exclude",
    "x": "exclude",
    "where": "where",
    "w": "where",
    "sort": "sort",
    "s": "sort",
    "limit": "limit",
    "l": "limit",
    "offset": "offset",
    "o": "offset",
    "search": "search",
}
_WORD_LITERALS: Final[dict[str, Scalar]] = {
    "null": None,
    "n": None,
    "true": True,
    "t": True,
    "false": False,
    "f": False,
}
_COMPARATORS: Final = frozenset({"=", "!=", ">", ">=", "<", "<=", "~"})
_CLOSERS: Final = {"(": ")", "[": "]", "{": "}"}
_LIST_MODES: Final[dict[str, Literal["any", "all", "exact"]]] = {
    "(": "any",
    "[": "all",
    "{": "exact",
}


def _unescape(match: re.Match[str]) -> str:
    char = match.group(1)
    return char if char in '"\\' else match.group(0)


def tokenize(text: str) -> list[Token]:
    """Split query text into tokens; an unterminated string or stray character is an error."""
    tokens: list[Token] = []
    pos, end = 0, len(text)
    match_at = _TOKEN_RE.match
    while pos < end:
        m = match_at(text, pos)
        if m is None:
            snippet = text[pos : pos + 20]
            raise ApicalypseError(f"token recognition error at: '{snippet}'")
        kind = m.lastgroup
        raw = m.group()
        if kind == "string":
            tokens.append(Token("string", raw, _ESCAPE_RE.sub(_unescape, raw[1:-1]), pos))
        elif kind == "number":
            value: Scalar = float(raw) if "." in raw else int(raw)
            tokens.append(Token("number", raw, value, pos))
        elif kind == "ident":
            tokens.append(Token("ident", raw, raw, pos))
        elif kind == "op":
            tokens.append(Token("op", raw, raw, pos))
        pos = m.end()
    tokens.append(Token("eof", "<EOF>", None, end))
    return tokens


def parse_query(text: str) -> Query:
    """Parse the body of a single-endpoint request."""
    parser = _Parser(tokenize(text))
    query = parser.statements(closer=None)
    parser.expect_kind("eof")
    return query


def parse_multiquery(text: str) -> list[SubQuery]:
    """Parse a multiquery body into its blocks (at most ``MAX_SUBQUERIES``)."""
    parser = _Parser(tokenize(text))
    blocks: list[SubQuery] = []
    while parser.peek().kind != "eof":
        word = parser.expect_kind("ident")
        if word.text != "query":
            parser.fail(word, "{'query'}")
        endpoint = parser.expect_kind("ident").text
        count = False
        if parser.accept_op("/"):
            suffix = parser.expect_kind("ident")
            if suffix.text != "count":
                parser.fail(suffix, "{'count'}")
            count = True
        name = parser.expect_kind("string")
        parser.expect_op("{")
        query = parser.statements(closer="}")
        parser.expect_op("}")
        parser.accept_op(";")
        blocks.append(SubQuery(endpoint, count, str(name.value), query))
        if len(blocks) > MAX_SUBQUERIES:
            raise ApicalypseError(
                f"Too many queries: a multiquery accepts at most {MAX_SUBQUERIES}",
                title="Too Many Queries",
            )
    if not blocks:
        parser.fail(parser.peek(), "{'query'}")
    return blocks


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self._tokens = tokens
        self._i = 0

    # -- token helpers -----------------------------------------------------------------------

    def peek(self) -> Token:
        return self._tokens[self._i]

    def next(self) -> Token:
        tok = self._tokens[self._i]
        if tok.kind != "eof":
            self._i += 1
        return tok

    def fail(self, tok: Token, expected: str) -> NoReturn:
        raise ApicalypseError(f"mismatched input '{tok.text}' expecting {expected}")

    def expect_kind(self, kind: str) -> Token:
        tok = self.next()
        if tok.kind != kind:
            self.fail(tok, "<EOF>" if kind == "eof" else f"{{{kind.upper()}}}")
        return tok

    def accept_op(self, op: str) -> bool:
        tok = self.peek()
        if tok.kind == "op" and tok.text == op:
            self._i += 1
            return True
        return False

    def expect_op(self, op: str) -> None:
        tok = self.next()
        if tok.kind != "op" or tok.text != op:
            self.fail(tok, f"'{op}'")

    # -- statements --------------------------------------------------------------------------

    def statements(self, closer: str | None) -> Query:
        parts: dict[str, object] = {}
        while True:
            tok = self.peek()
            if tok.kind == "eof" or (closer and tok.kind == "op" and tok.text == closer):
                break
            keyword = _KEYWORDS.get(tok.text) if tok.kind == "ident" else None
            if keyword is None:
                self.fail(
                    tok, "{'fields', 'exclude', 'where', 'sort', 'limit', 'offset', 'search'}"
                )
            self.next()
            parts[keyword] = getattr(self, f"_stmt_{keyword}")()
            self.expect_op(";")
        return Query(**parts)  # type: ignore[arg-type]

    def _stmt_fields(self) -> tuple[str, ...]:
        return self._field_list()

    def _stmt_exclude(self) -> tuple[str, ...]:
        return self._field_list()

    def _field_list(self) -> tuple[str, ...]:
        names: list[str] = []
        while True:
            tok = self.next()
            if tok.kind == "ident" or (tok.kind == "op" and tok.text == "*"):
                names.append(tok.text)
            else:
                self.fail(tok, "{IDENTIFIER, '*'}")
            if not self.accept_op(","):
                return tuple(names)

    def _stmt_where(self) -> Expr:
        return self._or()

    def _stmt_sort(self) -> Sort:
        field = self.expect_kind("ident").text
        tok = self.peek()
        if tok.kind == "ident" and tok.text in ("asc", "desc"):
            self.next()
            return Sort(field, tok.text == "desc")
        return Sort(field, False)

    def _stmt_limit(self) -> int:
        value = self._int()
        if value > MAX_LIMIT:
            raise ApicalypseError(
                f"You typed in {value} but your maximum is {MAX_LIMIT}", title="Invalid Limit"
            )
        return value

    def _stmt_offset(self) -> int:
        return self._int()

    def _stmt_search(self) -> str:
        return str(self.expect_kind("string").value)

    def _int(self) -> int:
        tok = self.next()
        if tok.kind != "number" or not isinstance(tok.value, int) or tok.value < 0:
            self.fail(tok, "{INTEGER}")
        return tok.value

    # -- where expressions -------------------------------------------------------------------

    def _or(self) -> Expr:
        items = [self._and()]
        while self.accept_op("|"):
            items.append(self._and())
        return items[0] if len(items) == 1 else BoolOp("or", tuple(items))

    def _and(self) -> Expr:
        items = [self._unary()]
        while self.accept_op("&"):
            items.append(self._unary())
        return items[0] if len(items) == 1 else BoolOp("and", tuple(items))

    def _unary(self) -> Expr:
        if self.accept_op("!"):
            return Not(self._unary())
        if self.accept_op("("):
            inner = self._or()
            self.expect_op(")")
            return inner
        field = self.next()
        if field.kind != "ident":
            self.fail(field, "{IDENTIFIER, '(', '!'}")
        op = self.next()
        if op.kind != "op" or op.text not in _COMPARATORS:
            self.fail(op, "{'=', '!=', '>', '>=', '<', '<=', '~'}")
        return Comparison(field.text, op.text, self._value())

    def _value(self) -> Value:
        tok = self.peek()
        if tok.kind == "op":
            if tok.text == "!":
                self.next()
                opener = self.next()
                if opener.kind != "op" or opener.text not in ("(", "["):
                    self.fail(opener, "{'(', '['}")
                return self._list(opener.text, negated=True)
            if tok.text in _CLOSERS:
                self.next()
                return self._list(tok.text, negated=False)
            if tok.text == "*":
                self.next()
                text = str(self.expect_kind("string").value)
                return Pattern("infix" if self.accept_op("*") else "suffix", text)
        literal = self._literal()
        if literal.is_string and self.accept_op("*"):
            return Pattern("prefix", str(literal.value))
        return literal

    def _list(self, opener: str, *, negated: bool) -> ListValue:
        items = [self._literal()]
        while self.accept_op(","):
            items.append(self._literal())
        self.expect_op(_CLOSERS[opener])
        return ListValue(_LIST_MODES[opener], negated, tuple(items))

    def _literal(self) -> LiteralValue:
        tok = self.next()
        if tok.kind == "string":
            return LiteralValue(tok.value, tok.text, True)
        if tok.kind == "number":
            return LiteralValue(tok.value, tok.text, False)
        if tok.kind == "ident" and tok.text in _WORD_LITERALS:
            return LiteralValue(_WORD_LITERALS[tok.text], tok.text, False)
        if tok.kind == "ident":
            raise ApicalypseError(
                "Expecting a STRING as input, surround your input with quotes starting at "
                f"'{tok.text}' expecting {{'{{', '(', '[', '\"', 'null'}}"
            )
        self.fail(tok, "{STRING, NUMBER, 'null', 'true', 'false'}")
