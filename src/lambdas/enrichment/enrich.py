"""Stage 2: raw CSV → Steam types and IGDB answers in bulk → decide every app → enriched CSV."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import structlog

from lambdas.clients.budget import budget_share
from lambdas.clients.igdb import IgdbClient
from lambdas.clients.s3 import (
    Storage,
    enriched_key_for,
    user_prefix,
    validate_user_id,
    wishlist_key_for,
)
from lambdas.clients.signing import (
    CsvSigner,
    Verdict,
    read_verified,
    signer_from_settings,
    store_signed,
)
from lambdas.clients.steam_store import SteamStoreClient
from lambdas.config import Settings
from lambdas.enrichment.matching import build_row, decide_title_match, title_variants
from lambdas.enrichment.precedence import Decision, decide
from lambdas.enrichment.ranking import choose_entry
from lambdas.errors import (
    LocationNotFoundError,
    MalformedCsvError,
    SteamRateLimitedError,
    UpstreamUnavailableError,
)
from lambdas.models.app_cache import NO_APP_CACHE, AppCache, IgdbAnswer
from lambdas.models.csv_codec import decode_rows, encode_rows, iter_rows
from lambdas.models.events import EnrichmentStats
from lambdas.models.igdb import IgdbGame
from lambdas.models.rows import (
    Candidate,
    EnrichedGameRow,
    EnrichedWishlistRow,
    MatchMethod,
    MatchStatus,
    RawGameRow,
    WishlistRow,
)
from lambdas.models.steam_store import StoreType

log = structlog.get_logger()

Progress = Callable[[str, int, int], None]

#: The share of the stage's time budget GetItems may spend: when the store stalls, the rest is
#: left for IGDB, which then decides the apps the store could not.
STORE_BUDGET_SHARE = 0.4
#: Added to the reason of an app decided without its store type because GetItems failed; such a
#: row is never reused, so the next run asks the store again and corrects it.
STORE_UNAVAILABLE = "store unavailable"


@dataclass(frozen=True, slots=True)
class EnrichmentResult:
    location: str
    stats: EnrichmentStats
    igdb_requests: int
    steam_store_calls: int = 0


def no_progress(step: str, done: int, total: int) -> None:
    return None


@dataclass(slots=True)
class _Costs:
    """What one run asked upstream, and how often the shared app cache answered instead (apps
    looked up there and found fresh: hits; looked up and not found: misses)."""

    steam_store_calls: int = 0
    igdb_requests: int = 0
    store_type_cache_hits: int = 0
    store_type_cache_misses: int = 0
    igdb_cache_hits: int = 0
    igdb_cache_misses: int = 0
    store_unavailable: int = 0

    def as_stats(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}


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
    app_cache: AppCache = NO_APP_CACHE,
    kept: frozenset[int] = frozenset(),
    signer: CsvSigner | None = None,
) -> EnrichmentResult:
    """Run stage 2 on a stored raw CSV and store the enriched CSV beside it, signed.

    Every app is decided by `precedence.decide` from the user's `kept` apps, Steam's store type
    and IGDB's answer for its uid (both from `app_cache` when fresh, else asked in bulk and
    stored there for every user), then its name. Games the user's previous enriched CSV settled
    recently are taken from it (matched ones for `enrichment_reuse_days`, unmatched ones for
    `unmatched_recheck_hours`), unless `refresh_metadata` asks for a full lookup, which also
    bypasses the cached IGDB answers. The enriched CSV is signed with `signer` (default: the
    pipeline's key, `signer_from_settings`), and an earlier one is reused only when its own
    signature verifies: a file under the user's prefix that stage 2 did not write is not a
    checkpoint.
    """
    validate_user_id(user_id)
    started = time.perf_counter()
    signer = signer or signer_from_settings(settings)
    raw_rows = decode_rows(storage.get(location, user_id=user_id), RawGameRow, what="raw CSV")
    key = storage.key_of(location, user_id=user_id)
    everyone = {row.appid: row for row in raw_rows}
    wishlist = _read_wishlist(storage, user_id, key)
    # Wishlisted apps the user does not own are decided like owned ones, in the same requests.
    wished = [
        RawGameRow(appid=item.appid, name=item.name)
        for item in wishlist
        if not item.owned and item.appid not in everyone
    ]
    reused = (
        {}
        if refresh_metadata
        else _reusable(storage, user_id, key, everyone, now=now, settings=settings, signer=signer)
    )
    pending = [row for row in raw_rows if row.appid not in reused]
    asked = [*pending, *wished]
    costs = _Costs()
    types, unsure = await _store_types(
        asked, settings, app_cache, costs, now=now, transport=transport
    )
    progress("classified", len(raw_rows), len(raw_rows))
    settled = _settle(asked, types, kept)
    answers = await _igdb_answers(
        asked,
        types,
        settled,
        settings,
        app_cache,
        costs,
        now=now,
        transport=transport,
        use_cached=not refresh_metadata,
    )
    progress("matched", len(pending), len(pending))
    # Rows go straight into the CSV encoder and are counted on the way: the enriched rows of a
    # large library never all sit in memory at once.
    tally = _Tally()
    owned_wishes = {item.appid for item in wishlist if item.appid in everyone}
    decided_owned: dict[int, EnrichedGameRow] = {}

    def decided(row: RawGameRow) -> EnrichedGameRow:
        return _enrich(
            row,
            types.get(row.appid),
            answers.get(row.appid),
            settled[row.appid],
            kept=row.appid in kept,
            fallback=settings.title_fallback,
            now=now,
            store_unavailable=row.appid in unsure,
        )

    def remembered(row: EnrichedGameRow) -> EnrichedGameRow:
        if row.appid in owned_wishes:
            decided_owned[row.appid] = row
        return row

    enriched = (remembered(tally.count(reused.get(row.appid) or decided(row))) for row in raw_rows)
    data = encode_rows(enriched, EnrichedGameRow)
    wished_rows = {row.appid: decided(row) for row in wished}
    wishes = [
        _wish(item, row, owned=item.appid in everyone)
        for item in wishlist
        if (row := decided_owned.get(item.appid) or wished_rows.get(item.appid)) is not None
    ]
    stats = tally.stats().model_copy(
        update={"reused": len(reused), **costs.as_stats(), **_wishlist_counts(wishes)}
    )
    enriched_key = enriched_key_for(key)
    sibling = wishlist_key_for(enriched_key)
    if wishes and sibling is not None:  # first: an enriched CSV stored has its wishlist stored
        store_signed(
            storage,
            sibling,
            encode_rows(wishes, EnrichedWishlistRow),
            user_id=user_id,
            signer=signer,
        )
    enriched_location = store_signed(storage, enriched_key, data, user_id=user_id, signer=signer)
    log.info(
        "stage.finished",
        stage="igdb_enrichment",
        location=enriched_location,
        duration_s=round(time.perf_counter() - started, 3),
        **stats.model_dump(exclude={"filtered_by_kind", "filtered_by_reason"}),
    )
    return EnrichmentResult(
        location=enriched_location,
        stats=stats,
        igdb_requests=costs.igdb_requests,
        steam_store_calls=costs.steam_store_calls,
    )


_NO_ANSWER = IgdbAnswer()


def _read_wishlist(storage: Storage, user_id: str, key: str) -> list[WishlistRow]:
    """The wishlist stage 1 stored beside the raw CSV; none when it stored none."""
    sibling = wishlist_key_for(key)
    if sibling is None:
        return []
    try:
        data = storage.get(storage.location_of(sibling), user_id=user_id)
    except LocationNotFoundError:
        return []
    return decode_rows(data, WishlistRow, what="wishlist CSV")


def _wish(item: WishlistRow, row: EnrichedGameRow, *, owned: bool) -> EnrichedWishlistRow:
    """The enriched wishlist row of `item`: its own decision, or its owned row's when owned."""
    values = row.model_dump()
    values.update(priority=item.priority, date_added=item.date_added, owned=owned)
    return EnrichedWishlistRow.model_validate(values)


def _wishlist_counts(wishes: Sequence[EnrichedWishlistRow]) -> dict[str, int]:
    """items = owned + matched + unmatched + filtered (the last three: not owned)."""
    wanted = Counter(row.match_status for row in wishes if not row.owned)
    return {
        "wishlist_items": len(wishes),
        "wishlist_owned": sum(row.owned for row in wishes),
        "wishlist_matched": wanted[MatchStatus.MATCHED],
        "wishlist_unmatched": wanted[MatchStatus.UNMATCHED],
        "wishlist_filtered": wanted[MatchStatus.FILTERED],
    }


async def prefetch_shared(
    rows: Iterable[RawGameRow],
    *,
    settings: Settings,
    app_cache: AppCache,
    now: datetime,
    transport: httpx.AsyncBaseTransport | None = None,
) -> EnrichmentStats:
    """Fill the shared app cache for many users' apps at once, before their stage 2 runs.

    Each app is looked up once, however many libraries hold it, and what is not fresh in the
    cache is asked in full batches (100 ids a GetItems call, 4,500 a multiquery) instead of
    one partial batch per user. The users' own stage 2 then finds the answers in the cache;
    apps only a user's kept list opens are still asked by that user's run. Only the counts in
    the returned stats are set.
    """
    unique = list({row.appid: row for row in rows}.values())
    costs = _Costs()
    types, _ = await _store_types(unique, settings, app_cache, costs, now=now, transport=transport)
    settled = _settle(unique, types, frozenset())
    await _igdb_answers(
        unique,
        types,
        settled,
        settings,
        app_cache,
        costs,
        now=now,
        transport=transport,
        use_cached=True,
    )
    stats = EnrichmentStats(processed=len(unique), **costs.as_stats())
    log.info("enrichment.prefetched", **stats.model_dump(exclude_defaults=True))
    return stats


async def _store_types(
    rows: Sequence[RawGameRow],
    settings: Settings,
    app_cache: AppCache,
    costs: _Costs,
    *,
    now: datetime,
    transport: httpx.AsyncBaseTransport | None,
) -> tuple[dict[int, StoreType], frozenset[int]]:
    """Steam's type of each app, from the shared cache when fresh, else from GetItems; and the
    apps GetItems could not answer (429, 5xx, an unreadable or stalled answer after retries).

    Those are decided by IGDB and their names instead of failing the stage. That is safe only
    because a filter is reversible: nothing is deleted, their reason says `store unavailable`,
    and the next run asks the store again and corrects them.
    """
    if not settings.steam_store_types or not rows:
        return {}, frozenset()
    app_ids = list(dict.fromkeys(row.appid for row in rows))
    fresh_since = now - timedelta(days=settings.steam_type_ttl_days)
    types = app_cache.get_types(app_ids, fresh_since=fresh_since)
    missing = [app_id for app_id in app_ids if app_id not in types]
    costs.store_type_cache_hits += len(app_ids) - len(missing)
    costs.store_type_cache_misses += len(missing)
    if not missing:
        return types, frozenset()
    try:
        with budget_share(STORE_BUDGET_SHARE):
            async with SteamStoreClient.from_settings(settings, transport=transport) as store:
                try:
                    fetched = await store.get_app_types(missing)
                finally:
                    costs.steam_store_calls += store.calls_sent
    except (SteamRateLimitedError, UpstreamUnavailableError) as exc:
        log.warning(
            "steam_store.unavailable",
            apps=len(missing),
            error_code=exc.code,
            error=exc.message,
            action="decided by IGDB and names; the next run asks again",
        )
        costs.store_unavailable += len(missing)
        return types, frozenset(missing)
    app_cache.put_types(fetched.values(), now=now)
    types.update(fetched)
    return types, frozenset()


def _settle(
    rows: Sequence[RawGameRow], types: dict[int, StoreType], kept: frozenset[int]
) -> dict[int, Decision]:
    """Each app's decision before IGDB: final for apps the store files as non-games."""
    return {
        row.appid: decide(
            name=row.name, store=types.get(row.appid), igdb_entry=None, kept=row.appid in kept
        )
        for row in rows
    }


def _is_open(decision: Decision, store: StoreType | None) -> bool:
    """Whether IGDB may still change or complete the decision (everything the store does not
    already file as a non-game)."""
    return decision.enrich or store is None or not store.known


async def _igdb_answers(
    rows: Sequence[RawGameRow],
    types: dict[int, StoreType],
    settled: dict[int, Decision],
    settings: Settings,
    app_cache: AppCache,
    costs: _Costs,
    *,
    now: datetime,
    transport: httpx.AsyncBaseTransport | None,
    use_cached: bool,
) -> dict[int, IgdbAnswer]:
    """IGDB's answer for every app the store does not already file as a non-game (whatever its
    name says), cached or asked in bulk. An app the store files is settled: IGDB could not change
    the verdict, and leaving it out keeps a 20,000-app library within six IGDB requests.

    Titles ride along in the id request for apps the store does not already file; a second
    round asks the titles of games still without any answer (as few as the fallback needs).
    """
    open_apps = {
        appid: decision.enrich
        for appid, decision in settled.items()
        if _is_open(decision, types.get(appid))
    }
    app_ids = list(open_apps)
    answers = (
        app_cache.get_igdb(
            app_ids,
            now=now,
            positive_ttl=timedelta(days=settings.enrichment_reuse_days),
            negative_ttl=timedelta(hours=settings.unmatched_recheck_hours),
        )
        if use_cached and app_ids
        else {}
    )
    if use_cached:  # a refresh does not look the cache up at all
        costs.igdb_cache_hits += len(answers)
        costs.igdb_cache_misses += len(app_ids) - len(answers)
    fallback = settings.title_fallback
    open_rows = [row for row in rows if row.appid in open_apps]
    ask_ids = [row for row in open_rows if row.appid not in answers]
    need_titles = [
        row
        for row in open_rows
        if fallback
        and not (row.appid in answers and answers[row.appid].games)
        and (row.appid not in answers or answers[row.appid].titles_for(row.name) is None)
    ]
    if not ask_ids and not need_titles:
        return answers
    changed: dict[int, IgdbAnswer] = {}
    async with IgdbClient.from_settings(settings, transport=transport) as igdb:
        lookup = await igdb.lookup_steam_apps(
            [row.appid for row in ask_ids],
            titles=[variant for row in need_titles for variant in title_variants(row.name)],
            titles_if_free=True,
        )
        for row in ask_ids:
            changed[row.appid] = IgdbAnswer(games=tuple(lookup.by_app_id.get(row.appid, ())))
        answers.update(changed)
        still = [
            row
            for row in need_titles
            if open_apps[row.appid]
            and not answers[row.appid].games
            and not all(variant in lookup.by_title for variant in title_variants(row.name))
        ]
        if still:
            more = await igdb.lookup_steam_apps(
                [], titles=[variant for row in still for variant in title_variants(row.name)]
            )
            lookup.by_title.update(more.by_title)
        costs.igdb_requests += igdb.requests_sent
    for row in need_titles:
        variants = title_variants(row.name)
        if all(variant in lookup.by_title for variant in variants):
            found = tuple(game for variant in variants for game in lookup.by_title[variant])
            answer = answers[row.appid]
            changed[row.appid] = IgdbAnswer(answer.games, title_name=row.name, title_games=found)
    answers.update(changed)
    app_cache.put_igdb(changed, now=now)
    return answers


def _reusable(
    storage: Storage,
    user_id: str,
    key: str,
    wanted: dict[int, RawGameRow],
    *,
    now: datetime,
    settings: Settings,
    signer: CsvSigner,
) -> dict[int, EnrichedGameRow]:
    """Rows of the user's latest earlier enriched CSV (the checkpoint) that are still fresh for a
    `wanted` game, updated from today's raw row; empty when there is no readable checkpoint, or
    when its signature does not verify (its IGDB facts would be signed again as ours).

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
        data, verdict = read_verified(
            storage, storage.location_of(earlier[-1]), user_id=user_id, signer=signer
        )
        if verdict is not Verdict.VERIFIED:
            log.warning("enrichment.checkpoint_unverified", key=earlier[-1], signature=verdict)
            return {}
        for previous in iter_rows(data, EnrichedGameRow, what="previous enriched CSV"):
            raw = wanted.get(previous.appid)
            if raw is not None and _still_fresh(previous, now=now, settings=settings):
                reusable[previous.appid] = _reuse(previous, raw)
    except (MalformedCsvError, LocationNotFoundError) as exc:
        log.warning("enrichment.checkpoint_unusable", key=earlier[-1], error=exc.message)
        return {}
    return reusable


def _still_fresh(row: EnrichedGameRow, *, now: datetime, settings: Settings) -> bool:
    if row.enriched_at is None or row.match_status is MatchStatus.FILTERED:
        return False
    if STORE_UNAVAILABLE in (row.reason or ""):
        return False  # decided while the store was down: asked again
    age = now - row.enriched_at
    if row.match_status is MatchStatus.UNMATCHED:
        return age <= timedelta(hours=settings.unmatched_recheck_hours)
    if row.igdb_id is None:
        return False
    return age <= timedelta(days=settings.enrichment_reuse_days)


def _reuse(previous: EnrichedGameRow, raw: RawGameRow) -> EnrichedGameRow:
    """The earlier verdict and metadata with today's playtimes, name and icon."""
    return EnrichedGameRow.model_validate({**previous.model_dump(), **raw.model_dump()})


def _enrich(
    row: RawGameRow,
    store: StoreType | None,
    asked: IgdbAnswer | None,
    settled: Decision,
    *,
    kept: bool,
    fallback: bool,
    now: datetime,
    store_unavailable: bool = False,
) -> EnrichedGameRow:
    answer = asked or _NO_ANSWER
    chosen = choose_entry(answer.games)
    found = answer.titles_for(row.name) if fallback else None
    decision = (
        decide(
            name=row.name,
            store=store,
            igdb_entry=chosen,
            kept=kept,
            igdb_silent=asked is not None and chosen is None,
            title_games=found or (),
        )
        if _is_open(settled, store)
        else settled
    )
    verdict = decision.classification()
    steam_type = store.app_type if store is not None else None

    def built(
        game: IgdbGame | None, method: MatchMethod, candidates: Sequence[Candidate] = ()
    ) -> EnrichedGameRow:
        return build_row(
            row,
            verdict,
            game=game,
            method=method,
            candidates=candidates,
            now=now,
            reason=(
                f"{decision.reason} ({STORE_UNAVAILABLE})" if store_unavailable else decision.reason
            ),
            steam_type=steam_type,
            refine=False,
        )

    if not decision.enrich or chosen is not None:
        return built(chosen if decision.enrich else None, MatchMethod.STEAM_APP_ID)
    if not found:
        return built(None, MatchMethod.NONE)
    match, candidates = decide_title_match(row.name, found)
    if match is None:
        return built(None, MatchMethod.NONE, candidates)
    return built(match, MatchMethod.TITLE)


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
        self.filtered_by_reason: Counter[str] = Counter()

    def count(self, row: EnrichedGameRow) -> EnrichedGameRow:
        self.statuses[row.match_status] += 1
        if row.match_status is MatchStatus.MATCHED and row.match_method is MatchMethod.TITLE:
            self.by_title += 1
        if row.match_status is MatchStatus.FILTERED:
            self.filtered_by_kind[row.kind.value] += 1
            self.filtered_by_reason[row.reason or row.classifier_rule] += 1
        return row

    def stats(self) -> EnrichmentStats:
        return EnrichmentStats(
            processed=self.statuses.total(),
            matched=self.statuses[MatchStatus.MATCHED],
            unmatched=self.statuses[MatchStatus.UNMATCHED],
            filtered=self.statuses[MatchStatus.FILTERED],
            matched_by_title=self.by_title,
            filtered_by_kind=dict(sorted(self.filtered_by_kind.items())),
            filtered_by_reason=dict(sorted(self.filtered_by_reason.items())),
        )
