"""The sandbox's Apicalypse parser, table-driven: statements, operators, escapes and errors."""

from __future__ import annotations

import pytest

from steam_sandbox.apicalypse import (
    ApicalypseError,
    BoolOp,
    Comparison,
    ListValue,
    LiteralValue,
    Not,
    Pattern,
    Query,
    Sort,
    parse_multiquery,
    parse_query,
    tokenize,
)


def lit(value: object, raw: str | None = None) -> LiteralValue:
    is_string = isinstance(value, str)
    text = raw if raw is not None else (f'"{value}"' if is_string else str(value))
    return LiteralValue(value, text, is_string)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Query()),
        ("fields name;", Query(fields=("name",))),
        ("f name, slug ;", Query(fields=("name", "slug"))),
        ("fields *;", Query(fields=("*",))),
        ("fields genres.*, game.genres.name;", Query(fields=("genres.*", "game.genres.name"))),
        ("exclude summary;", Query(exclude=("summary",))),
        ("x summary, storyline;", Query(exclude=("summary", "storyline"))),
        ("sort name;", Query(sort=Sort("name", False))),
        ("s first_release_date desc;", Query(sort=Sort("first_release_date", True))),
        ("sort name asc;", Query(sort=Sort("name", False))),
        ("limit 500;", Query(limit=500)),
        ("l 0;", Query(limit=0)),
        ("offset 20;", Query(offset=20)),
        ("o 3;", Query(offset=3)),
        ('search "zelda";', Query(search="zelda")),
        ("fields a;\nlimit 2 ;\n offset 1;", Query(fields=("a",), limit=2, offset=1)),
    ],
)
def test_statements(text: str, expected: Query) -> None:
    assert parse_query(text) == expected


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("id = 5", Comparison("id", "=", lit(5))),
        ("id != 5", Comparison("id", "!=", lit(5))),
        ("rating > 7.5", Comparison("rating", ">", lit(7.5))),
        ("year >= 2000", Comparison("year", ">=", lit(2000))),
        ("year < -3", Comparison("year", "<", lit(-3))),
        ("year <= 1", Comparison("year", "<=", lit(1))),
        ('name ~ "portal"', Comparison("name", "~", lit("portal"))),
        ('name = "Port"*', Comparison("name", "=", Pattern("prefix", "Port"))),
        ('name ~ *"tal"', Comparison("name", "~", Pattern("suffix", "tal"))),
        ('name = *"or"*', Comparison("name", "=", Pattern("infix", "or"))),
        ("cover = null", Comparison("cover", "=", lit(None, "null"))),
        ("cover != n", Comparison("cover", "!=", lit(None, "n"))),
        ("flag = true", Comparison("flag", "=", lit(True, "true"))),
        ("flag = t", Comparison("flag", "=", lit(True, "t"))),
        ("flag = false", Comparison("flag", "=", lit(False, "false"))),
        ("flag = f", Comparison("flag", "=", lit(False, "f"))),
        ("genres = (1,2)", Comparison("genres", "=", ListValue("any", False, (lit(1), lit(2))))),
        ("genres = [1,2]", Comparison("genres", "=", ListValue("all", False, (lit(1), lit(2))))),
        ("genres = {1,2}", Comparison("genres", "=", ListValue("exact", False, (lit(1), lit(2))))),
        ("genres = !(1)", Comparison("genres", "=", ListValue("any", True, (lit(1),)))),
        ("genres = ![1]", Comparison("genres", "=", ListValue("all", True, (lit(1),)))),
        ('game.genres.name = "RPG"', Comparison("game.genres.name", "=", lit("RPG"))),
        (
            "a = 1 & b = 2 | c = 3",
            BoolOp(
                "or",
                (
                    BoolOp("and", (Comparison("a", "=", lit(1)), Comparison("b", "=", lit(2)))),
                    Comparison("c", "=", lit(3)),
                ),
            ),
        ),
        (
            "a = 1 & (b = 2 | c = 3)",
            BoolOp(
                "and",
                (
                    Comparison("a", "=", lit(1)),
                    BoolOp("or", (Comparison("b", "=", lit(2)), Comparison("c", "=", lit(3)))),
                ),
            ),
        ),
        ("!(a = 1)", Not(Comparison("a", "=", lit(1)))),
    ],
)
def test_where_expressions(where: str, expected: object) -> None:
    assert parse_query(f"where {where};").where == expected
    assert parse_query(f"w {where};").where == expected


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        (r'"plain"', "plain"),
        (r'"say \"hi\""', 'say "hi"'),
        (r'"back\\slash"', "back\\slash"),
        (r'"trailing \\"', "trailing \\"),
        (r'"unknown \n escape"', "unknown \\n escape"),
        ('"emoji 🚀 and 星の物語 ™"', "emoji 🚀 and 星の物語 ™"),
        ('"commas, (parens) & {braces};"', "commas, (parens) & {braces};"),
    ],
)
def test_string_escapes(literal: str, value: str) -> None:
    where = parse_query(f"where name = {literal};").where

    assert isinstance(where, Comparison)
    assert isinstance(where.value, LiteralValue)
    assert where.value.value == value


@pytest.mark.parametrize(
    ("text", "title", "cause_part"),
    [
        ("fields name", "Syntax Error", "expecting ';'"),
        ('where name = "abc;', "Syntax Error", "token recognition error"),
        (r'where name = "abc\";', "Syntax Error", "token recognition error"),
        ("where uid = abc;", "Syntax Error", "Expecting a STRING as input"),
        ("where uid = (1,;", "Syntax Error", "mismatched input"),
        ("where uid = ();", "Syntax Error", "mismatched input"),
        ("where (a = 1;", "Syntax Error", "expecting ')'"),
        ("where a 1;", "Syntax Error", "mismatched input '1'"),
        ("where = 1;", "Syntax Error", "mismatched input '='"),
        ("fields ;", "Syntax Error", "mismatched input ';'"),
        ("fields a,;", "Syntax Error", "mismatched input ';'"),
        ("bogus a;", "Syntax Error", "mismatched input 'bogus'"),
        ("limit -1;", "Syntax Error", "INTEGER"),
        ("limit 1.5;", "Syntax Error", "INTEGER"),
        ("limit 501;", "Invalid Limit", "501"),
        ("search zelda;", "Syntax Error", "STRING"),
        ("fields name; $", "Syntax Error", "token recognition error"),
        ("sort;", "Syntax Error", "mismatched input ';'"),
    ],
)
def test_errors(text: str, title: str, cause_part: str) -> None:
    with pytest.raises(ApicalypseError) as caught:
        parse_query(text)

    [body] = caught.value.body()
    assert body["title"] == title
    assert body["status"] == 400
    assert cause_part in str(body["cause"])


def test_multiquery_blocks() -> None:
    text = """
        query external_games "steam links" {
          fields uid,game;
          where external_game_source = 1 & uid = ("620","730");
          limit 500;
        };
        query games/count "main games" { where game_type = 0; };
        query games "exact" { where genres = {1, 2}; }
    """

    blocks = parse_multiquery(text)

    assert [(b.endpoint, b.count, b.name) for b in blocks] == [
        ("external_games", False, "steam links"),
        ("games", True, "main games"),
        ("games", False, "exact"),
    ]
    assert blocks[0].query.limit == 500
    assert blocks[2].query.where == Comparison(
        "genres", "=", ListValue("exact", False, (lit(1), lit(2)))
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        'games "a" { fields name; };',
        "query games { fields name; };",
        'query games/counts "a" { };',
        'query games "a" { fields name; ',
        'query games "a" fields name; };',
    ],
)
def test_multiquery_errors(text: str) -> None:
    with pytest.raises(ApicalypseError):
        parse_multiquery(text)


def test_multiquery_has_at_most_ten_blocks() -> None:
    ten = "".join(f'query games "{i}" {{ fields name; }};' for i in range(10))

    assert len(parse_multiquery(ten)) == 10
    with pytest.raises(ApicalypseError, match="at most 10"):
        parse_multiquery(ten + 'query games "10" { fields name; };')


def test_tokens_keep_positions() -> None:
    tokens = tokenize("fields name; where id = 1;")

    assert [t.text for t in tokens][:4] == ["fields", "name", ";", "where"]
    assert tokens[-1].kind == "eof"
    assert tokens[3].pos == 13
