"""Query building: names cannot change a query, ids are integers only."""

from __future__ import annotations

import pytest

from lambdas.clients import apicalypse as q


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("Portal 2", '"Portal 2"'),
        ('Say "hi"', '"Say \\"hi\\""'),
        ("C:\\games\\", '"C:\\\\games\\\\"'),
        ('x"; where id = 1; limit 500; "', '"x\\"; where id = 1; limit 500; \\""'),
        ("line\nbreak", '"line break"'),
        ("", '""'),
    ],
)
def test_quote(text: str, quoted: str) -> None:
    assert q.quote(text) == quoted


def test_id_list_accepts_only_ints() -> None:
    assert q.id_list([1, 20, 300]) == "(1,20,300)"
    with pytest.raises(TypeError):
        q.id_list(["1); fields *"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        q.id_list([True])
    with pytest.raises(ValueError, match="empty"):
        q.id_list([])


def test_query_and_block() -> None:
    body = q.query(select="name", where="id = (1)", sort="id asc", limit=500, offset=500)
    assert body == "fields name; where id = (1); sort id asc; limit 500; offset 500;"
    assert q.query(select="name", search='a "b"', limit=5).startswith('search "a \\"b\\"";')
    assert (
        q.multiquery_block("games", "g-0", "fields name;") == 'query games "g-0" { fields name; };'
    )
    with pytest.raises(ValueError, match=r"1\.\.500"):
        q.query(select="name", limit=501)
    with pytest.raises(ValueError, match="endpoint"):
        q.multiquery_block('games "x" {', "n", "fields name;")
