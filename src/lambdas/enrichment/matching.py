"""Pure matching rules for stage 2: title normalization, the careful title fallback, and the
enriched row built from a verdict.

Title fallback (for games IGDB does not map by Steam app id): the Steam name and every IGDB
candidate are normalized — NFKC, ™/®/© dropped, case folded, `&` read as "and", punctuation and
repeated spaces removed, and one trailing *store edition* suffix dropped: "Game of the Year",
"GOTY", or "<Game of the Year|GOTY|Deluxe|Digital Deluxe|Complete|Gold|Standard> Edition".
Editions that IGDB keeps as their own games (Enhanced, Definitive, Remastered, Director's Cut,
Anniversary) are never stripped. A match
needs exactly one candidate with the same normalized title that is not itself an edition
(`version_parent`), and, when the Steam name carries a year "(1998)", the same release year.
Anything less certain stays UNMATCHED with up to three candidates for the review list.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache

from lambdas.enrichment.classifier import Classification, refine_with_igdb_game_type
from lambdas.enrichment.ranking import entry_rank
from lambdas.models.igdb import IgdbGame, IgdbGenre, IgdbPlatform
from lambdas.models.rows import (
    AppKind,
    Candidate,
    EnrichedGameRow,
    GenreRef,
    MatchMethod,
    MatchStatus,
    PlatformRef,
    RawGameRow,
)

MAX_CANDIDATES = 3

_MARKS = re.compile(r"[\u2122\u00ae\u00a9]")
_YEAR = re.compile(r"\((19[5-9]\d|20\d\d)\)")
_NON_WORD = re.compile(r"[^\w]+")
_EDITION_SUFFIX = re.compile(
    r"(?:\s+|\s*[-:–—]\s*|\s*\(\s*)"  # a separator: the suffix never is the whole title
    r"(?:(?:game of the year|goty|deluxe|digital deluxe|complete|gold|standard)\s+edition"
    r"|game of the year|goty)\s*\)?$",
    re.IGNORECASE,
)


def normalize_title(title: str) -> str:
    """The comparison form of a title; equal forms mean "the same title" for the fallback."""
    text = unicodedata.normalize("NFKC", _MARKS.sub("", title)).casefold()
    text = _YEAR.sub(" ", text).replace("&", " and ")
    text = _EDITION_SUFFIX.sub("", text.strip())
    return " ".join(_NON_WORD.sub(" ", text).replace("_", " ").split())


def title_year(title: str) -> int | None:
    """A release year the Steam name states itself, as in "Doom (1993)"."""
    match = _YEAR.search(title)
    return int(match.group(1)) if match else None


def title_variants(title: str) -> list[str]:
    """Exact strings worth asking IGDB for: the name, without marks, without a year or edition."""
    plain = " ".join(_MARKS.sub("", title).split())
    without_year = " ".join(_YEAR.sub(" ", plain).split())
    without_edition = _EDITION_SUFFIX.sub("", without_year).strip()
    variants = [title.strip(), plain, without_year, without_edition]
    return [variant for variant in dict.fromkeys(variants) if variant]


def decide_title_match(
    name: str, found: Iterable[IgdbGame]
) -> tuple[IgdbGame | None, list[Candidate]]:
    """The one safe title match (or None) and the best candidates to show a reviewer."""
    wanted = normalize_title(name)
    year = title_year(name)
    unique = {game.id: game for game in found}.values()
    same_title = [game for game in unique if wanted and normalize_title(game.name) == wanted]
    safe = [game for game in same_title if game.version_parent is None]
    if year is not None:
        safe = [game for game in safe if game.release_year in (year, None)]
    ranked = sorted(
        unique, key=lambda game: (normalize_title(game.name) != wanted, entry_rank(game))
    )
    candidates = [
        Candidate(igdb_id=game.id, name=game.name, year=game.release_year)
        for game in ranked[:MAX_CANDIDATES]
    ]
    return (safe[0] if len(safe) == 1 else None), candidates


# A library's games share a few dozen genres and platforms (frozen, hashable models, shared by
# the IGDB client): each is converted to its row reference once.
@lru_cache(maxsize=4096)
def _genre_ref(genre: IgdbGenre) -> GenreRef:
    return GenreRef.model_validate(genre.model_dump())


@lru_cache(maxsize=4096)
def _platform_ref(platform: IgdbPlatform) -> PlatformRef:
    return PlatformRef.model_validate(platform.model_dump())


def _genres(game: IgdbGame) -> list[GenreRef]:
    # Never invent names: a genre or platform IGDB sent without a name or slug is left out.
    return [_genre_ref(genre) for genre in game.genres if genre.name and genre.slug]


def _platforms(game: IgdbGame) -> list[PlatformRef]:
    return [
        _platform_ref(platform) for platform in game.platforms if platform.name and platform.slug
    ]


def build_row(
    raw: RawGameRow,
    verdict: Classification,
    *,
    game: IgdbGame | None,
    method: MatchMethod,
    candidates: Sequence[Candidate] = (),
    now: datetime,
    reason: str = "",
    steam_type: int | None = None,
    refine: bool = True,
) -> EnrichedGameRow:
    """The enriched row for one app: FILTERED non-games, MATCHED with metadata, or UNMATCHED.

    With `refine`, a GAME verdict matched to an IGDB non-game entry becomes FILTERED (the
    name-only path and manual links); stage 2's precedence has already weighed IGDB and passes
    `refine=False`.
    """
    base = {
        **raw.model_dump(),
        "reason": reason or f"name:{verdict.rule}",
        "steam_type": steam_type,
    }
    if not verdict.enrich:
        return EnrichedGameRow(
            **base, kind=verdict.kind, classifier_rule=verdict.rule,
            match_status=MatchStatus.FILTERED,
        )  # fmt: skip
    if game is None:
        return EnrichedGameRow(
            **base,
            kind=AppKind.GAME,
            classifier_rule=verdict.rule,
            match_status=MatchStatus.UNMATCHED,
            candidates=list(candidates),
            enriched_at=now,
        )
    refined = refine_with_igdb_game_type(verdict, game.game_type) if refine else verdict
    if refined is not verdict:
        base["reason"] = f"igdb_game_type={game.game_type}"
    return EnrichedGameRow(
        **base,
        kind=refined.kind,
        classifier_rule=refined.rule,
        match_status=MatchStatus.MATCHED if refined.enrich else MatchStatus.FILTERED,
        match_method=method,
        igdb_id=game.id,
        igdb_name=game.name or None,
        igdb_slug=game.slug,
        igdb_summary=game.summary,
        igdb_first_release_date=game.first_release_date,
        igdb_game_type=game.game_type,
        igdb_franchise_id=game.main_franchise,
        igdb_cover_image_id=game.cover.image_id if game.cover else None,
        cover_url=game.cover_url,
        genres=_genres(game),
        platforms=_platforms(game),
        enriched_at=now,
    )
