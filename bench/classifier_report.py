"""Measure the stage-2 name classifier on the labelled list of real Steam app names.

Run: `uv run python -m bench.classifier_report` (prints figures and every misclassification).
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


def main() -> None:
    print(render(evaluate(load_labelled())))


if __name__ == "__main__":
    main()
