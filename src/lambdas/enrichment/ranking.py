"""Which of the IGDB entries a Steam app id maps to stands for it: a pure, deterministic rank."""

from __future__ import annotations

from collections.abc import Sequence

from lambdas.models.igdb import GameType, IgdbGame

# Entries that are a game in their own right, though not the main one.
_GAME_LIKE = frozenset(
    {
        GameType.STANDALONE_EXPANSION,
        GameType.REMAKE,
        GameType.REMASTER,
        GameType.EXPANDED_GAME,
        GameType.PORT,
        GameType.FORK,
    }
)


def entry_rank(game: IgdbGame) -> tuple[int, int]:
    """Lower is preferred: main games, then other game types, then editions, then add-ons."""
    if game.version_parent is not None:
        return (3, game.id)  # an edition of another entry ("GOTY", "Deluxe")
    if game.game_type in (GameType.MAIN_GAME, None) and game.parent_game is None:
        return (0, game.id)
    if game.game_type in _GAME_LIKE:
        return (1, game.id)
    if game.game_type == GameType.MAIN_GAME:
        return (2, game.id)
    return (4, game.id)  # DLC, bundles, packs, updates, mods, episodes …


def choose_entry(games: Sequence[IgdbGame]) -> IgdbGame | None:
    """The entry a Steam app id stands for, deterministically: a main game first, then other
    game types, then editions, then add-ons; ties go to the lowest IGDB id."""
    return min(games, key=entry_rank) if games else None
