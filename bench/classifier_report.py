"""Measure stage 2's classification: the name rules alone on the labelled list of real Steam app
names, and every source in its order of precedence on the emulator's labelled catalogue.

Run: `uv run python -m bench.classifier_report` (prints figures and every misclassification of
the name rules, then, per kind, how many apps each source decided and how many it got right).
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from lambdas.enrichment.classifier import classify_steam_app
from lambdas.models.rows import AppKind

LABELLED_CSV = Path(__file__).resolve().parent.parent / "tests" / "data" / "steam_app_names.csv"


@dataclass(frozen=True, slots=True)
class LabelledName:
    name: str
    kind: AppKind
    note: str


@dataclass(frozen=True, slots=True)
class Miss:
    name: str
    expected: AppKind
    got: AppKind
    rule: str


@dataclass(frozen=True, slots=True)
class ClassifierReport:
    """Games kept, non-games caught, and the per-kind confusion counts."""

    games: int
    games_kept: int
    non_games: int
    non_games_caught: int
    confusion: Counter[tuple[AppKind, AppKind]] = field(default_factory=Counter)
    misses: tuple[Miss, ...] = ()

    @property
    def games_kept_share(self) -> float:
        return self.games_kept / self.games if self.games else 1.0

    @property
    def non_games_caught_share(self) -> float:
        return self.non_games_caught / self.non_games if self.non_games else 1.0


def load_labelled(path: Path = LABELLED_CSV) -> list[LabelledName]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            LabelledName(row["name"], AppKind(row["kind"]), row["note"])
            for row in csv.DictReader(handle)
        ]


def evaluate(rows: list[LabelledName]) -> ClassifierReport:
    confusion: Counter[tuple[AppKind, AppKind]] = Counter()
    misses: list[Miss] = []
    games = games_kept = non_games = caught = 0
    for row in rows:
        verdict = classify_steam_app(row.name)
        confusion[(row.kind, verdict.kind)] += 1
        if verdict.kind is not row.kind:
            misses.append(Miss(row.name, row.kind, verdict.kind, verdict.rule))
        if row.kind is AppKind.GAME:
            games += 1
            games_kept += verdict.kind is AppKind.GAME
        else:
            non_games += 1
            caught += verdict.kind is not AppKind.GAME
    return ClassifierReport(games, games_kept, non_games, caught, confusion, tuple(misses))


def render(report: ClassifierReport) -> str:
    lines = [
        f"games kept as games:      {report.games_kept}/{report.games} "
        f"= {report.games_kept_share:.2%}",
        f"non-games caught:         {report.non_games_caught}/{report.non_games} "
        f"= {report.non_games_caught_share:.2%}",
        "",
        "per labelled kind (classified as → count):",
    ]
    for expected in AppKind:
        row = {got: n for (exp, got), n in report.confusion.items() if exp is expected}
        if row:
            cells = ", ".join(f"{got.value}={n}" for got, n in sorted(row.items()))
            lines.append(f"  {expected.value:<22} {cells}")
    lines += ["", f"misclassifications ({len(report.misses)}):"]
    lines += [
        f"  {m.expected.value:<22} → {m.got.value:<22} [{m.rule}] {m.name}" for m in report.misses
    ]
    return "\n".join(lines)


SOURCES = ("steam type", "name over steam", "silent evidence", "igdb", "name over igdb", "name")
#: Who speaks about an app: the store (a non-game type, a game, or nothing) and IGDB's uid map.
QUADRANTS = (
    "store non-game",
    "store game + igdb entry",
    "store game + igdb silent",
    "store silent + igdb entry",
    "store silent + igdb silent",
)


def source_of(reason: str) -> str:
    """Which source a stage-2 reason names (`steam_type=4`, `igdb main + name:demo`, …)."""
    if reason.startswith("steam_type="):  # "steam_type=4 + name:…" only names the non-game kind
        if " + igdb silent" in reason:
            return "silent evidence"
        return "name over steam" if reason.startswith("steam_type=0 + name:") else "steam type"
    if reason.startswith("igdb"):
        return "name over igdb" if " + name:" in reason else "igdb"
    return "name"


@dataclass(slots=True)
class SourceReport:
    """Per labelled kind and source: apps decided, and how many of them rightly (game or not)."""

    decided: Counter[tuple[str, str]] = field(default_factory=Counter)
    right: Counter[tuple[str, str]] = field(default_factory=Counter)
    games: int = 0
    games_kept: int = 0
    non_games: int = 0
    non_games_caught: int = 0
    name_only_games_kept: int = 0
    name_only_non_games_caught: int = 0
    #: Per quadrant: games, games kept, non-games, non-games caught.
    quadrants: dict[str, list[int]] = field(
        default_factory=lambda: {quadrant: [0, 0, 0, 0] for quadrant in QUADRANTS}
    )
    #: In the silent quadrant: filtered apps per clue that took part, and right / filtered.
    clues: Counter[str] = field(default_factory=Counter)
    clues_right: Counter[str] = field(default_factory=Counter)


def quadrant_of(store_type: int | None, igdb_entry: bool) -> str:
    if store_type not in (None, 0):
        return QUADRANTS[0]
    if store_type == 0:
        return QUADRANTS[1] if igdb_entry else QUADRANTS[2]
    return QUADRANTS[3] if igdb_entry else QUADRANTS[4]


def evaluate_sources(seed: int = 42) -> SourceReport:
    """Decide every app of the emulator's catalogue as stage 2 does, from the catalogue's own
    store types, store item data and IGDB rows (no HTTP: the same data GetItems and IGDB serve;
    the title fallback's entries are IGDB's games named exactly as one of the app's variants)."""
    from lambdas.enrichment.matching import title_variants
    from lambdas.enrichment.precedence import decide
    from lambdas.enrichment.ranking import choose_entry
    from lambdas.models.igdb import IgdbGame
    from lambdas.models.rows import MatchStatus
    from lambdas.models.steam_store import StoreDetails, StoreType
    from steam_sandbox import CatalogueConfig
    from steam_sandbox.catalogue import shared_catalogue

    catalogue = shared_catalogue(CatalogueConfig(seed=seed))
    games = {row["id"]: row for row in catalogue.tables["games"]}
    by_title: dict[str, list[int]] = {}
    for row in catalogue.tables["games"]:
        by_title.setdefault(row["name"], []).append(row["id"])
    report = SourceReport()
    for app in catalogue.apps.values():
        truth = app.truth
        entries = [IgdbGame.model_validate(games[gid]) for gid in truth.mapped_igdb_ids]
        details = StoreDetails(
            is_free=app.store_free,
            tags=app.store_tags,
            players=app.store_players,
            features=app.store_features,
        )
        store = StoreType(app.appid, app.store_type, app.parent_appid, details)
        titled = [
            IgdbGame.model_validate(games[gid])
            for variant in title_variants(app.name)
            for gid in by_title.get(variant, ())
        ]
        chosen = choose_entry(entries)
        decision = decide(
            name=app.name,
            store=store,
            igdb_entry=chosen,
            igdb_silent=chosen is None,
            title_games=titled if chosen is None else (),
        )
        is_game = truth.status is not MatchStatus.FILTERED
        counts = report.quadrants[quadrant_of(app.store_type, chosen is not None)]
        counts[0 if is_game else 2] += 1
        counts[1 if is_game else 3] += decision.enrich == is_game
        if " + igdb silent + " in decision.reason:
            for clue in decision.reason.split(" + igdb silent + ", 1)[1].split(" + "):
                report.clues[clue] += 1
                report.clues_right[clue] += not is_game
        label = (
            truth.kind.value if is_game or truth.kind is not AppKind.GAME else "GAME (IGDB: add-on)"
        )
        key = (label, source_of(decision.reason))
        report.decided[key] += 1
        report.right[key] += decision.enrich == is_game
        name_only = classify_steam_app(app.name).kind is AppKind.GAME
        if is_game:
            report.games += 1
            report.games_kept += decision.enrich
            report.name_only_games_kept += name_only
        else:
            report.non_games += 1
            report.non_games_caught += not decision.enrich
            report.name_only_non_games_caught += not name_only
    return report


def render_sources(report: SourceReport) -> str:
    def share(part: int, whole: int) -> str:
        return f"{part}/{whole} = {part / whole:.2%}" if whole else "—"

    lines = [
        "emulator catalogue, every source in order (Steam type > IGDB game_type > name):",
        f"  games kept:        {share(report.games_kept, report.games)}"
        f"   (names alone: {share(report.name_only_games_kept, report.games)})",
        f"  non-games caught:  {share(report.non_games_caught, report.non_games)}"
        f"   (names alone: {share(report.name_only_non_games_caught, report.non_games)})",
        "",
        "  decided by source, right / decided, per labelled kind:",
        "  " + f"{'kind':<22}" + "".join(f"{source:>18}" for source in SOURCES),
    ]
    for label in sorted({label for label, _ in report.decided}):
        cells = []
        for source in SOURCES:
            decided = report.decided[(label, source)]
            cells.append(f"{report.right[(label, source)]}/{decided}" if decided else "—")
        lines.append("  " + f"{label:<22}" + "".join(f"{cell:>18}" for cell in cells))
    lines += [
        "",
        "  per quadrant (who speaks: the store's type, IGDB's uid map):",
        f"  {'quadrant':<28}{'games kept':>20}{'non-games caught':>22}",
    ]
    for quadrant, (games, kept, non_games, caught) in report.quadrants.items():
        lines.append(f"  {quadrant:<28}{share(kept, games):>20}{share(caught, non_games):>22}")
    lines += ["", "  silent quadrant, filtered apps per clue (right / filtered):"]
    for clue, count in report.clues.most_common():
        lines.append(f"    {clue:<40}{report.clues_right[clue]}/{count}")
    return "\n".join(lines)


def main() -> None:
    print("real Steam app names (tests/data), names alone — the fallback:")
    print(render(evaluate(load_labelled())))
    print()
    print(render_sources(evaluate_sources()))


if __name__ == "__main__":
    main()
