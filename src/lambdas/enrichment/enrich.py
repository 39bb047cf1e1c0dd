"""Stage 2: raw CSV → classify every app → match games to IGDB in bulk → enriched CSV."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import structlog

from lambdas.clients.igdb import IgdbClient, SteamLookup
from lambdas.clients.s3 import Storage, enriched_key_for, user_prefix, validate_user_id
from lambdas.config import Settings
from lambdas.enrichment.classifier import Classification, classify_steam_app
from lambdas.enrichment.matching import build_row, decide_title_match, title_variants
from lambdas.enrichment.ranking import choose_entry
from lambdas.errors import LocationNotFoundError, MalformedCsvError
from lambdas.models.csv_codec import decode_rows, encode_rows, iter_rows
from lambdas.models.events import EnrichmentStats
from lambdas.models.igdb import IgdbGame
from lambdas.models.rows import EnrichedGameRow, MatchMethod, MatchStatus, RawGameRow

log = structlog.get_logger()

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class EnrichmentResult:
    location: str
    stats: EnrichmentStats
    igdb_requests: int


def no_progress(step: str, done: int, total: int) -> None:
    return None


async def enrich_library(
    *,
    user_id: str,
    location: str,
    settings: Settings,
    storage: Storage,
    now: datetime,
    transport: httpx.AsyncBaseTransport | None = None,
    progress: Progress = no_progress,
    refresh_metadata: bool = False,
) -> EnrichmentResult:
    """Run stage 2 on a stored raw CSV and store the enriched CSV beside it.

    Games the user's previous enriched CSV settled recently are taken from it instead of IGDB
    (matched ones for `enrichment_reuse_days`, unmatched ones for `unmatched_recheck_hours`),
    unless `refresh_metadata` asks for a full lookup.
    """
    validate_user_id(user_id)
    started = time.perf_counter()
    raw_rows = decode_rows(storage.get(location, user_id=user_id), RawGameRow, what="raw CSV")
    key = storage.key_of(location, user_id=user_id)
    verdicts = [classify_steam_app(row.name) for row in raw_rows]
    wanted = {
        row.appid: row for row, verdict in zip(raw_rows, verdicts, strict=True) if verdict.enrich
    }
    reused = (
        {}
        if refresh_metadata
        else _reusable(storage, user_id, key, wanted, now=now, settings=settings)
    )
    games = [
        row
        for row, verdict in zip(raw_rows, verdicts, strict=True)
        if verdict.enrich and row.appid not in reused
    ]
    progress("classified", len(raw_rows), len(raw_rows))
    requests = 0
    lookup = SteamLookup()
    if games:
        async with IgdbClient.from_settings(settings, transport=transport) as igdb:
            lookup = await _lookup(igdb, games, fallback=settings.title_fallback)
            requests = igdb.requests_sent
    progress("matched", len(games), len(games))
    # Rows go straight into the CSV encoder and are counted on the way: the enriched rows of a
    # large library never all sit in memory at once.
    tally = _Tally()
    enriched = (
        tally.count(
            reused.get(row.appid)
            or _enrich(row, verdict, lookup, fallback=settings.title_fallback, now=now)
        )
        for row, verdict in zip(raw_rows, verdicts, strict=True)
    )
    data = encode_rows(enriched, EnrichedGameRow)
    stats = tally.stats().model_copy(update={"reused": len(reused)})
    enriched_location = storage.put(enriched_key_for(key), data)
    log.info(
        "stage.finished",
        stage="igdb_enrichment",
        location=enriched_location,
        igdb_requests=requests,
        duration_s=round(time.perf_counter() - started, 3),
        **stats.model_dump(exclude={"filtered_by_kind"}),
    )
    return EnrichmentResult(location=enriched_location, stats=stats, igdb_requests=requests)


def _reusable(
    storage: Storage,
    user_id: str,
    key: str,
    wanted: dict[int, RawGameRow],
    *,
    now: datetime,
    settings: Settings,
) -> dict[int, EnrichedGameRow]:
    """Rows of the user's latest earlier enriched CSV (the checkpoint) that are still fresh for a
    `wanted` game, updated from today's raw row; empty when there is no readable checkpoint.

    The checkpoint is read row by row and only reusable rows are kept, so a large library's
    previous rows are never all in memory beside today's.
    """
    current = enriched_key_for(key)
    earlier = [
        found
        for found in storage.list_keys(user_prefix(user_id))
        if found.endswith("-enriched.csv") and found < current
    ]
    if not earlier:
        return {}
    reusable: dict[int, EnrichedGameRow] = {}
    try:
        for previous in iter_rows(
            storage.get(storage.location_of(earlier[-1]), user_id=user_id),
            EnrichedGameRow,
            what="previous enriched CSV",
        ):
            raw = wanted.get(previous.appid)
            if raw is not None and _still_fresh(previous, now=now, settings=settings):
                reusable[previous.appid] = _reuse(previous, raw)
    except (MalformedCsvError, LocationNotFoundError) as exc:
        log.warning("enrichment.checkpoint_unusable", key=earlier[-1], error=exc.message)
        return {}
    return reusable


def _still_fresh(row: EnrichedGameRow, *, now: datetime, settings: Settings) -> bool:
    if row.enriched_at is None:
        return False
    age = now - row.enriched_at
    if row.match_status is MatchStatus.UNMATCHED:
        return age <= timedelta(hours=settings.unmatched_recheck_hours)
    if row.igdb_id is None:
        return False
    return age <= timedelta(days=settings.enrichment_reuse_days)


def _reuse(previous: EnrichedGameRow, raw: RawGameRow) -> EnrichedGameRow:
    """The earlier verdict and metadata with today's playtimes, name and icon."""
    return EnrichedGameRow.model_validate({**previous.model_dump(), **raw.model_dump()})


async def _lookup(igdb: IgdbClient, games: Sequence[RawGameRow], *, fallback: bool) -> SteamLookup:
    """Ids first; titles ride along when they fit, else one more round for the unmatched."""
    app_ids = [row.appid for row in games]
    titles = [variant for row in games for variant in title_variants(row.name)] if fallback else []
    lookup = await igdb.lookup_steam_apps(app_ids, titles=titles, titles_if_free=True)
    if fallback:
        missing = [
            variant
            for row in games
            if not lookup.by_app_id.get(row.appid)
            for variant in title_variants(row.name)
            if variant not in lookup.by_title
        ]
        if missing:
            more = await igdb.lookup_steam_apps([], titles=missing)
            lookup.by_title.update(more.by_title)
    return lookup


def _enrich(
    row: RawGameRow,
    verdict: Classification,
    lookup: SteamLookup,
    *,
    fallback: bool,
    now: datetime,
) -> EnrichedGameRow:
    if not verdict.enrich:
        return build_row(row, verdict, game=None, method=MatchMethod.NONE, now=now)
    chosen = choose_entry(lookup.by_app_id.get(row.appid, []))
    if chosen is not None:
        return build_row(row, verdict, game=chosen, method=MatchMethod.STEAM_APP_ID, now=now)
    if not fallback:
        return build_row(row, verdict, game=None, method=MatchMethod.NONE, now=now)
    found: list[IgdbGame] = [
        game for variant in title_variants(row.name) for game in lookup.by_title.get(variant, [])
    ]
    match, candidates = decide_title_match(row.name, found)
    if match is None:
        return build_row(
            row, verdict, game=None, method=MatchMethod.NONE, candidates=candidates, now=now
        )
    return build_row(row, verdict, game=match, method=MatchMethod.TITLE, now=now)


def summarize(rows: Iterable[EnrichedGameRow]) -> EnrichmentStats:
    """processed = all rows; filtered = non-games; matched + unmatched = games."""
    tally = _Tally()
    for row in rows:
        tally.count(row)
    return tally.stats()


class _Tally:
    """The counts behind `summarize`, taken one row at a time."""

    def __init__(self) -> None:
        self.statuses: Counter[MatchStatus] = Counter()
        self.by_title = 0
        self.filtered_by_kind: Counter[str] = Counter()

    def count(self, row: EnrichedGameRow) -> EnrichedGameRow:
        self.statuses[row.match_status] += 1
        if row.match_status is MatchStatus.MATCHED and row.match_method is MatchMethod.TITLE:
            self.by_title += 1
        if row.match_status is MatchStatus.FILTERED:
            self.filtered_by_kind[row.kind.value] += 1
        return row

    def stats(self) -> EnrichmentStats:
        return EnrichmentStats(
            processed=self.statuses.total(),
            matched=self.statuses[MatchStatus.MATCHED],
            unmatched=self.statuses[MatchStatus.UNMATCHED],
            filtered=self.statuses[MatchStatus.FILTERED],
            matched_by_title=self.by_title,
            filtered_by_kind=dict(sorted(self.filtered_by_kind.items())),
        )
