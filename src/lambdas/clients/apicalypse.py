"""Building Apicalypse query text safely: ids are integers, strings are quoted and escaped."""

from __future__ import annotations

from collections.abc import Iterable

# What stage 3 needs of a game, expanded in the same request.
GAME_FIELDS: tuple[str, ...] = (
    "name",
    "slug",
    "summary",
    "first_release_date",
    "cover.image_id",
    "game_type",
    "version_parent",
    "parent_game",
    "franchise",
    "franchises",
    "genres.name",
    "genres.slug",
    "genres.checksum",
    "platforms.name",
    "platforms.slug",
    "platforms.abbreviation",
    "platforms.alternative_name",
    "platforms.generation",
    "platforms.platform_family",
    "platforms.platform_type",
    "platforms.checksum",
)


def quote(text: str) -> str:
    """A double-quoted Apicalypse string; backslash and quote escaped, so text stays text."""
    if not isinstance(text, str):
        raise TypeError("Apicalypse strings must be str")
    cleaned = "".join(ch if ch.isprintable() or ch == " " else " " for ch in text)
    return '"' + cleaned.replace("\\", "\\\\").replace('"', '\\"') + '"'


def id_list(ids: Iterable[int]) -> str:
    """`(1,2,3)` from integers only; anything else is a programming error."""
    values = []
    for value in ids:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"IGDB ids must be int, not {type(value).__name__}")
        values.append(str(value))
    if not values:
        raise ValueError("an id list cannot be empty")
    return "(" + ",".join(values) + ")"


def string_list(texts: Iterable[str]) -> str:
    values = [quote(text) for text in texts]
    if not values:
        raise ValueError("a string list cannot be empty")
    return "(" + ",".join(values) + ")"


def fields(names: Iterable[str], *, prefix: str = "") -> str:
    return ",".join(f"{prefix}{name}" for name in names)


def query(
    *,
    select: str,
    where: str | None = None,
    search: str | None = None,
    sort: str | None = None,
    limit: int = 500,
    offset: int = 0,
) -> str:
    """One query body; `where` must itself be built from quote() and id_list()."""
    if not 1 <= limit <= 500:
        raise ValueError("IGDB limits are 1..500")
    parts = []
    if search is not None:
        parts.append(f"search {quote(search)};")
    parts.append(f"fields {select};")
    if where:
        parts.append(f"where {where};")
    if sort:
        parts.append(f"sort {sort};")
    parts.append(f"limit {limit};")
    if offset:
        parts.append(f"offset {int(offset)};")
    return " ".join(parts)


def multiquery_block(endpoint: str, name: str, body: str) -> str:
    if not endpoint.replace("_", "").replace("/", "").isalnum():
        raise ValueError(f"bad endpoint {endpoint!r}")
    return f"query {endpoint} {quote(name)} {{ {body} }};"
