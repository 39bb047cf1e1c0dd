"""Field names, types and references of the emulated IGDB endpoints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Kind = Literal["int", "float", "str", "bool", "ints", "ref", "refs"]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """A field's value kind and, for references, the endpoint it points to."""

    kind: Kind
    target: str | None = None

    @property
    def is_list(self) -> bool:
        """Whether the stored value is a list."""
        return self.kind in ("ints", "refs")

    @property
    def is_string(self) -> bool:
        """Whether comparisons need quoted string literals."""
        return self.kind == "str"


def _ref(target: str) -> FieldSpec:
    return FieldSpec("ref", target)


def _refs(target: str) -> FieldSpec:
    return FieldSpec("refs", target)


_INT, _STR, _BOOL, _INTS = FieldSpec("int"), FieldSpec("str"), FieldSpec("bool"), FieldSpec("ints")
_STAMPS: Final = {"created_at": _INT, "updated_at": _INT, "checksum": _STR}

SCHEMA: Final[dict[str, dict[str, FieldSpec]]] = {
    "games": {
        "id": _INT,
        "name": _STR,
        "slug": _STR,
        "summary": _STR,
        "storyline": _STR,
        "first_release_date": _INT,
        "cover": _ref("covers"),
        "genres": _refs("genres"),
        "platforms": _refs("platforms"),
        "franchise": _ref("franchises"),
        "franchises": _refs("franchises"),
        "game_type": _ref("game_types"),
        "category": _INT,
        "parent_game": _ref("games"),
        "version_parent": _ref("games"),
        "version_title": _STR,
        "external_games": _refs("external_games"),
        "dlcs": _refs("games"),
        "bundles": _refs("games"),
        "url": _STR,
        **_STAMPS,
    },
    "external_games": {
        "id": _INT,
        "uid": _STR,
        "game": _ref("games"),
        "name": _STR,
        "url": _STR,
        "year": _INT,
        "platform": _ref("platforms"),
        "countries": _INTS,
        "external_game_source": _ref("external_game_sources"),
        "game_release_format": _INT,
        "category": _INT,
        "media": _INT,
        **_STAMPS,
    },
    "external_game_sources": {"id": _INT, "name": _STR, **_STAMPS},
    "game_types": {"id": _INT, "type": _STR, **_STAMPS},
    "genres": {"id": _INT, "name": _STR, "slug": _STR, "url": _STR, **_STAMPS},
    "platforms": {
        "id": _INT,
        "name": _STR,
        "slug": _STR,
        "abbreviation": _STR,
        "alternative_name": _STR,
        "generation": _INT,
        "platform_family": _ref("platform_families"),
        "platform_type": _ref("platform_types"),
        "category": _INT,
        "summary": _STR,
        "url": _STR,
        **_STAMPS,
    },
    "platform_types": {"id": _INT, "name": _STR, **_STAMPS},
    "platform_families": {"id": _INT, "name": _STR, "slug": _STR, "checksum": _STR},
    "covers": {
        "id": _INT,
        "image_id": _STR,
        "url": _STR,
        "width": _INT,
        "height": _INT,
        "alpha_channel": _BOOL,
        "animated": _BOOL,
        "game": _ref("games"),
        "checksum": _STR,
    },
    "franchises": {
        "id": _INT,
        "name": _STR,
        "slug": _STR,
        "url": _STR,
        "games": _refs("games"),
        **_STAMPS,
    },
}

# Deprecated enum fields governed by the ``category_mode`` knob.
DEPRECATED_FIELDS: Final[dict[str, frozenset[str]]] = {
    "games": frozenset({"category"}),
    "external_games": frozenset({"category", "media"}),
    "platforms": frozenset({"category"}),
}
SEARCHABLE: Final = frozenset({"games", "platforms", "franchises"})
