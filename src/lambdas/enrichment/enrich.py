"""Stage 2: raw CSV → Steam types and IGDB answers in bulk → decide every app → enriched CSV."""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections import Counter, deque
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from operator import itemgetter
from typing import Any, NamedTuple, TypeVar

import httpx
import structlog

from lambdas.clients.budget import budget_share
from lambdas.clients.igdb import IgdbClient, SteamLookup, process_caches
from lambdas.clients.igdb_multiquery import MAX_KEYS_PER_SUBQUERY, MAX_SUBQUERIES
from lambdas.clients.s3 import (
    Storage,
    enriched_key_for,
    get_wishlist_beside,
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
from lambdas.collector import cyclic_gc_paused
from lambdas.config import Settings
from lambdas.enrichment.matching import build_row, decide_title_match, title_variants
from lambdas.enrichment.precedence import Decision, decide
from lambdas.enrichment.ranking import choose_entry
from lambdas.errors import (
    ForbiddenLocationError,
    InvalidLocationError,
    LocationNotFoundError,
    MalformedCsvError,
    SteamRateLimitedError,
    UpstreamUnavailableError,
)
from lambdas.models.app_cache import NO_APP_CACHE, AppCache, IgdbAnswer
from lambdas.models.csv_codec import (
    RowEncoder,
    appid_in_cell,
    cells_of,
    decode_rows,
    encode_line,
    encode_rows,
    header_of,
    iter_lines,
    iter_records,
    iter_rows,
    parse_record,
)
from lambdas.models.events import (
    EnrichmentStats,
    LibraryChanges,
    LibraryState,
    ReuseWindows,
)
from lambdas.models.igdb import IgdbGame
from lambdas.models.library_state import (
    COMPARED_COLUMNS,
    LIBRARY,
    WISHLIST,
    current_inputs,
    fingerprint,
    wishlist_input,
)
from lambdas.models.rows import (
    Candidate,
    EnrichedGameRow,
    EnrichedWishlistRow,
    MatchMethod,
    MatchStatus,
    RawGameRow,
    WishlistRow,
    stored_alike,
)
from lambdas.models.steam_store import StoreType

log = structlog.get_logger()

T = TypeVar("T")

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
    #: No app differs from the committed import: nothing was stored, stage 3 has nothing to do.
    unchanged: bool = False
    #: The rows stage 3 writes when the committed import served as the base (else None: all).
    changes_location: str | None = None
    changes: LibraryChanges = field(default_factory=LibraryChanges)
    #: What stage 3 stores as the user's state once it committed (None when unchanged).
    state: LibraryState | None = None


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


@cyclic_gc_paused
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
    state: LibraryState | None = None,
    signer: CsvSigner | None = None,
    wishlist_outcome: str | None = None,
) -> EnrichmentResult:
    """Run stage 2 on a stored raw CSV and store the enriched CSV beside it, signed.

    With the user's committed `state` (and no refresh), only what changed since is done: apps
    as committed pass through, changed apps keep their still-fresh decision with today's
    values, and only new apps and apps whose reuse window passed are decided; the rows stage 3
    must write go to a second CSV (`changes_location`). Nothing differing (the wishlist's
    fingerprint included) means `unchanged`. `wishlist_outcome` is stage 1's: when skipped or
    off, the committed wishlist fingerprint is kept; when not said, a stored raw wishlist is it.

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
    raw = _RawLibrary(storage.get(location, user_id=user_id))
    key = storage.key_of(location, user_id=user_id)
    wishlist = _read_wishlist(storage, user_id, key)
    if wishlist_outcome is None:  # not said: the stored raw wishlist, if any, is the wishlist
        wishlist_outcome = "imported" if wishlist else None
    inputs = current_inputs(
        raw.fingerprint(),
        mode=settings.import_mode,
        wishlist=wishlist_input(wishlist_outcome, wishlist, state),
    )
    base = (
        None
        if refresh_metadata or state is None
        else _committed_base(
            storage,
            user_id,
            state,
            inputs,
            raw,
            now=now,
            settings=settings,
            kept=kept,
            signer=signer,
        )
    )
    # Wishlisted apps the user does not own are decided like owned ones, in the same requests.
    wished = [
        RawGameRow(appid=item.appid, name=item.name)
        for item in wishlist
        if not item.owned and item.appid not in raw.records
    ]
    owned_wishes = {item.appid for item in wishlist if item.appid in raw.records}
    tally = base.tally if base is not None else _Tally()
    if base is not None:
        reused, passthrough, revised = base.reused, base.lines, base.revised
        pending = [
            raw.row(app)
            for app in raw.apps
            if app not in reused and app not in passthrough and app not in revised
        ]
        wishlist_same = state is not None and state.inputs.get(WISHLIST) == inputs.get(WISHLIST)
        if not pending and not reused and not revised and state is not None and wishlist_same:
            return _unchanged(state, base, started)
    else:
        passthrough, revised = {}, {}
        everyone = {row.appid: row for row in (raw.row(app) for app in raw.apps)}
        reused = (
            {}
            if refresh_metadata
            else _reusable(
                storage, user_id, key, everyone, now=now, settings=settings, signer=signer
            )
        )
        pending = [row for row in everyone.values() if row.appid not in reused]
        del everyone
    raw.forget_records()  # every row needed is parsed: only the app order is kept
    asked = [*pending, *wished]
    costs = _Costs()
    # Rows go straight into the CSV encoders and are counted on the way: the enriched rows of a
    # large library never all sit in memory at once. Apps as committed pass through as lines.
    full = RowEncoder(EnrichedGameRow)
    sent = RowEncoder(EnrichedGameRow) if base is not None else None
    by_app = {row.appid: row for row in pending}
    # Apps whose row no later answer can change (a non-game by its store type) are decided and
    # encoded while GetItems and IGDB are still answering, in the waits between their answers
    # (`_Ahead`). Their lines are short (no IGDB metadata); games' rows wait, or their lines
    # would sit beside the IGDB answers' peak (a 20,000-app library: 209 -> 229 MB).
    ahead: dict[int, tuple[bytes, _Counted]] = {}
    unsent: set[int] = set()  # apps encoded ahead that were decided as committed

    def encode_ahead(app: int, store: StoreType, settled: Decision) -> None:
        row = by_app.get(app)
        if row is None or app in owned_wishes:
            return
        enriched = _enrich(
            row,
            store,
            None,  # IGDB is not asked about an app the store files
            settled,
            kept=app in kept,
            fallback=settings.title_fallback,
            now=now,
        )
        ahead[app] = (full.encoded(enriched), _Tally.summary(enriched))
        if _as_committed(enriched, base, app):
            unsent.add(app)

    encoder = _Ahead(encode_ahead)
    try:
        types, unsure, settled, answers = await _look_up(
            asked,
            settings,
            app_cache,
            costs,
            kept=kept,
            now=now,
            transport=transport,
            use_cached=not refresh_metadata,
            progress=lambda: progress("classified", len(raw.apps), len(raw.apps)),
            ready=encoder.add,
        )
    except BaseException:
        await encoder.close(keep=False)
        raise
    await encoder.close(keep=not unsure)
    if unsure:
        ahead.clear()  # decided with store types that GetItems' failure discards
    progress("matched", len(pending), len(pending))

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

    decided_owned: dict[int, EnrichedGameRow] = {}
    for app in raw.apps:
        line = passthrough.get(app)
        if line is not None:
            full.line(line)
            if app in owned_wishes:  # a wishlisted app the user owns: its owned row's decision
                decided_owned[app] = _decode_line(line)
            continue
        cells_and_line = revised.get(app)
        if cells_and_line is not None:  # changed, with its committed decision: sent as a line
            cells, line = cells_and_line
            tally.count_cells(cells)
            full.line(line)
            if sent is not None:
                sent.line(line)
            if app in owned_wishes:
                decided_owned[app] = _decode_line(line)
            continue
        encoded = ahead.pop(app, None)
        if encoded is not None:
            line, summary = encoded
            tally.count_summary(summary)
            full.line(line)
            if sent is not None and app not in unsent:
                sent.line(line)
            continue
        enriched = reused.get(app) or decided(by_app[app])
        tally.count(enriched)
        full.row(enriched)
        if sent is not None and not _as_committed(enriched, base, app):
            sent.row(enriched)
        if app in owned_wishes:
            decided_owned[app] = enriched
    wished_rows = {row.appid: decided(row) for row in wished}
    wishes = [
        _wish(item, row, owned=item.appid in owned_wishes)
        for item in wishlist
        if (row := decided_owned.get(item.appid) or wished_rows.get(item.appid)) is not None
    ]
    stats = tally.stats().model_copy(
        update={
            "reused": len(reused) + tally.passed_games,  # revised rows are counted as passed
            **costs.as_stats(),
            **_wishlist_counts(wishes),
        }
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
    enriched_location = store_signed(
        storage, enriched_key, full.data(), user_id=user_id, signer=signer
    )
    changes_location = (
        store_signed(storage, changes_key_for(key), sent.data(), user_id=user_id, signer=signer)
        if sent is not None
        else None
    )
    changes = base.changes if base is not None else LibraryChanges(new=len(raw.apps), full=True)
    filtered_since = base.filtered_since if base is not None else None
    next_state = LibraryState(
        user_id=user_id,
        inputs=inputs,
        raw_location=location,
        enriched_location=enriched_location,
        matched_since=tally.oldest.get(MatchStatus.MATCHED),
        unmatched_since=tally.oldest.get(MatchStatus.UNMATCHED),
        filtered_since=filtered_since or now,
        stats=tally.stats().model_copy(update=_wishlist_counts(wishes)),
        recheck=costs.store_unavailable > 0,
    )
    log.info(
        "stage.finished",
        stage="igdb_enrichment",
        location=enriched_location,
        duration_s=round(time.perf_counter() - started, 3),
        **changes.model_dump(),
        **stats.model_dump(exclude={"filtered_by_kind", "filtered_by_reason"}),
    )
    return EnrichmentResult(
        location=enriched_location,
        stats=stats,
        igdb_requests=costs.igdb_requests,
        steam_store_calls=costs.steam_store_calls,
        changes_location=changes_location,
        changes=changes,
        state=next_state,
    )


def _unchanged(state: LibraryState, base: _Base, started: float) -> EnrichmentResult:
    """The answer when no app differs from the committed import: nothing stored or sent."""
    log.info(
        "stage.finished",
        stage="igdb_enrichment",
        nothing_to_send=True,
        duration_s=round(time.perf_counter() - started, 3),
        **base.changes.model_dump(),
    )
    passed = base.tally  # every app of today's library, as committed
    return EnrichmentResult(
        location=state.enriched_location,
        stats=passed.stats().model_copy(
            update={"reused": passed.passed_games, **_committed_wishlist_counts(state)}
        ),
        igdb_requests=0,
        unchanged=True,
        changes=base.changes,
    )


def _committed_wishlist_counts(state: LibraryState) -> dict[str, int]:
    """The wishlist's counts as committed (unchanged: the wishlist is as committed too)."""
    return {
        name: getattr(state.stats, name)
        for name in (
            "wishlist_items",
            "wishlist_owned",
            "wishlist_matched",
            "wishlist_unmatched",
            "wishlist_filtered",
        )
    }


def changes_key_for(raw: str) -> str:
    """The key of the rows stage 3 writes, beside the raw CSV (never taken for a checkpoint:
    those end in `-enriched.csv`)."""
    return enriched_key_for(raw).removesuffix("-enriched.csv") + "-changes.csv"


@dataclass(slots=True)
class _Base:
    """Today's library against the committed import (its enriched CSV)."""

    #: The apps passed through, counted.
    tally: _Tally
    #: Apps as committed and not due: their committed row, encoded.
    lines: dict[int, bytes]
    #: Changed apps whose committed decision is still fresh: the decision with today's values.
    reused: dict[int, EnrichedGameRow]
    #: The same as cells and their line, for apps whose committed decision is not due.
    revised: dict[int, tuple[list[str], bytes]]
    changes: LibraryChanges
    #: When every filtered app passed through was decided (None: they were all decided today).
    filtered_since: datetime | None
    #: Unchanged apps decided again (their window passed): their committed record, by line.
    due: dict[int, tuple[int, list[str]]] = field(default_factory=dict)


_COLUMNS = header_of(EnrichedGameRow)
_INDEX = {name: index for index, name in enumerate(_COLUMNS)}
_RAW_COLUMNS = header_of(RawGameRow)
_COMPARED = tuple(_INDEX[name] for name in COMPARED_COLUMNS)
#: `record_key(record, _COMPARED)` in one C call: the compared cells of a record, as a tuple.
_compared_cells: Callable[[Sequence[str]], tuple[str, ...]] = itemgetter(*_COMPARED)
# The enriched CSV starts with the raw CSV's columns: the compared cells sit at the same places.
assert _COLUMNS[: len(_RAW_COLUMNS)] == _RAW_COLUMNS


class _RawLibrary:
    """Today's raw CSV: each app's record, in file order, validated as a row model only when
    the app is used (an app passed through as committed is only compared, cell by cell)."""

    def __init__(self, data: bytes) -> None:
        self.what = "raw CSV"
        self.records: dict[int, tuple[int, list[str]]] = {}
        for line_number, record in iter_records(data, RawGameRow, what=self.what):
            app = _appid_of(record, line_number, self.what, len(_RAW_COLUMNS))
            if app in self.records:
                raise MalformedCsvError(
                    f"the {self.what} row on line {line_number} repeats appid {app} "
                    f"from line {self.records[app][0]}"
                )
            self.records[app] = (line_number, record)
        self.apps = list(self.records)
        self._json_cells: dict[str, object] = {}

    def key(self, app: int) -> tuple[str, ...]:
        return _compared_cells(self.records[app][1])

    def row(self, app: int) -> RawGameRow:
        line_number, record = self.records[app]
        return parse_record(
            record, RawGameRow, line_number, what=self.what, json_cells=self._json_cells
        )

    def forget_records(self) -> None:
        self.records.clear()

    def fingerprint(self) -> str:
        """`library_fingerprint` of the rows, from their cells: a cell that is not what the
        row's value writes differs, and the app is then validated as changed."""
        return fingerprint(self.key(app) for app in self.apps)


def _committed_base(
    storage: Storage,
    user_id: str,
    state: LibraryState,
    inputs: dict[str, str],
    today: _RawLibrary,
    *,
    now: datetime,
    settings: Settings,
    kept: frozenset[int],
    signer: CsvSigner,
) -> _Base | None:
    """Split today's apps against the committed enriched CSV: unchanged (passed through as
    committed, never decoded), changed or due (decoded; the decision reused while fresh), new.

    None, and the import does the full work, when the state does not apply (another version or
    other inputs than the library) or its CSV cannot be read.
    """
    # The wishlist is decided apart from the library: a changed one does not make the owned
    # apps' work full again.
    others = {name: value for name, value in inputs.items() if name not in (LIBRARY, WISHLIST)}
    if {n: v for n, v in state.inputs.items() if n not in (LIBRARY, WISHLIST)} != others:
        return None
    windows = ReuseWindows.of(
        reuse_days=settings.enrichment_reuse_days,
        recheck_hours=settings.unmatched_recheck_hours,
        type_ttl_days=settings.steam_type_ttl_days,
    )
    filtered_due = state.filtered_since is None or windows.due(
        state.filtered_since, windows.filtered, now
    )
    what = "committed enriched CSV"
    lines: dict[int, bytes] = {}
    tally = _Tally()
    passed_filtered = False
    reused: dict[int, EnrichedGameRow] = {}
    revised: dict[int, tuple[list[str], bytes]] = {}
    seen: set[int] = set()
    changed = due = dropped = 0
    due_records: dict[int, tuple[int, list[str]]] = {}
    json_cells: dict[str, object] = {}
    try:
        data, verdict = read_verified(
            storage, state.enriched_location, user_id=user_id, signer=signer
        )
        if verdict is not Verdict.VERIFIED:  # its rows would be passed on, signed again
            log.warning("enrichment.committed_unverified", signature=verdict)
            return None
        for line_number, record, stored in iter_lines(data, EnrichedGameRow, what=what):
            appid = _appid_of(record, line_number, what, len(_COLUMNS))
            if appid not in today.records or appid in seen:
                dropped += appid not in today.records
                continue
            seen.add(appid)
            same = _compared_cells(record) == today.key(appid)
            status = record[_INDEX["match_status"]]
            is_due = _record_due(record, status, now, windows, filtered_due, appid in kept)
            if is_due:
                due += same
                if same:
                    due_records[appid] = (line_number, record)
            elif same:
                lines[appid] = stored  # its bytes as committed (this codec wrote them)
                tally.count_cells(record)
                passed_filtered = passed_filtered or status == MatchStatus.FILTERED.value
                continue
            changed += not same
            if status == MatchStatus.FILTERED.value:
                continue  # decided again, as every filtered app of a full import is
            if not is_due:
                # Changed, its decision still fresh (not due says so): today's raw cells on the
                # committed decision's cells, as `_reuse` would write them, without decoding it.
                cells = [*cells_of(today.row(appid), _RAW_COLUMNS), *record[len(_RAW_COLUMNS) :]]
                revised[appid] = (cells, encode_line(cells))
                continue
            previous = parse_record(
                record, EnrichedGameRow, line_number, what=what, json_cells=json_cells
            )
            if _still_fresh(previous, now=now, settings=settings):
                reused[appid] = _reuse(previous, today.row(appid))
    except (
        MalformedCsvError,
        LocationNotFoundError,
        ForbiddenLocationError,
        InvalidLocationError,
    ) as exc:
        log.warning("enrichment.committed_unusable", error=exc.message)
        return None
    changes = LibraryChanges(
        new=len(today.apps) - len(seen),
        changed=changed,
        due=due,
        unchanged=len(lines),
        dropped=dropped,
        full=False,
    )
    return _Base(
        tally=tally,
        lines=lines,
        reused=reused,
        revised=revised,
        changes=changes,
        filtered_since=state.filtered_since if passed_filtered and not filtered_due else None,
        due=due_records,
    )


def _as_committed(row: EnrichedGameRow, base: _Base | None, app: int) -> bool:
    """Whether an unchanged app decided again was decided as committed, in everything stage 3
    stores: then the database holds its row already and it is not sent (the enriched CSV has
    it, with its new `enriched_at`, so it is not due again tomorrow)."""
    committed = base.due.get(app) if base is not None else None
    if committed is None:
        return False
    line_number, record = committed
    try:
        previous = parse_record(record, EnrichedGameRow, line_number, what="committed enriched CSV")
    except MalformedCsvError:
        return False  # sent: stage 3 writes what today's decision says
    return stored_alike(previous, row)


def _appid_of(record: list[str], line_number: int, what: str, columns: int) -> int:
    """The app id of a record (the rest of the row is validated when the row is parsed)."""
    if len(record) != columns:
        raise MalformedCsvError(
            f"the {what} row on line {line_number} has {len(record)} fields, expected {columns}"
        )
    appid = appid_in_cell(record[0])
    if appid is None:
        raise MalformedCsvError(
            f"the {what} row on line {line_number}: appid is not an integer "
            "(ASCII digits, at most 10)"
        )
    return appid


def _record_due(
    record: list[str],
    status: str,
    now: datetime,
    windows: ReuseWindows,
    filtered_due: bool,
    kept: bool,
) -> bool:
    """Whether a committed app's decision must be made again although the app is unchanged."""
    if STORE_UNAVAILABLE in record[_INDEX["reason"]]:
        return True  # decided while Steam's store was down: asked again
    if status == MatchStatus.FILTERED.value:
        return filtered_due or kept  # a kept app is a game from now on
    decided = _moment(record[_INDEX["enriched_at"]])
    if decided is None:
        return True
    if status == MatchStatus.MATCHED.value:
        return not record[_INDEX["igdb_id"]] or now - decided > windows.matched
    if status == MatchStatus.UNMATCHED.value:
        return now - decided > windows.unmatched
    return True


@lru_cache(maxsize=1024)  # a library's decisions share a few moments (one per run)
def _moment(cell: str) -> datetime | None:
    try:
        return datetime.fromisoformat(cell) if cell else None
    except ValueError:
        return None


_NO_ANSWER = IgdbAnswer()
_HEADER_LINE = encode_line(_COLUMNS)


def _decode_line(line: bytes) -> EnrichedGameRow:
    """The row of one enriched CSV line passed through as committed."""
    return decode_rows(_HEADER_LINE + line, EnrichedGameRow, what="committed enriched CSV")[0]


def _read_wishlist(storage: Storage, user_id: str, key: str) -> list[WishlistRow]:
    """The wishlist stage 1 stored beside the raw CSV; none when it stored none."""
    data = get_wishlist_beside(storage, key, user_id=user_id)
    return [] if data is None else decode_rows(data, WishlistRow, what="wishlist CSV")


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
    await _look_up(
        unique,
        settings,
        app_cache,
        costs,
        kept=frozenset(),
        now=now,
        transport=transport,
        use_cached=True,
    )
    stats = EnrichmentStats(processed=len(unique), **costs.as_stats())
    log.info("enrichment.prefetched", **stats.model_dump(exclude_defaults=True))
    return stats


async def _look_up(
    asked: Sequence[RawGameRow],
    settings: Settings,
    app_cache: AppCache,
    costs: _Costs,
    *,
    kept: frozenset[int],
    now: datetime,
    transport: httpx.AsyncBaseTransport | None,
    use_cached: bool,
    progress: Callable[[], None] = lambda: None,
    ready: _Ready | None = None,
) -> tuple[dict[int, StoreType], frozenset[int], dict[int, Decision], dict[int, IgdbAnswer]]:
    """Steam's store types of `asked`, the decisions they settle, the apps GetItems could not
    answer, and IGDB's answers; IGDB is asked by Steam uid while GetItems is still answering.

    `ready` is told each app whose row no later answer can change (the store files it as a
    non-game), as soon as its type is known, with its store type and decision. Its calls are
    void when GetItems fails (`unsure` then holds apps).
    """
    app_ids = [row.appid for row in asked]
    cached = (
        app_cache.get_igdb(
            app_ids,
            now=now,
            positive_ttl=timedelta(days=settings.enrichment_reuse_days),
            negative_ttl=timedelta(hours=settings.unmatched_recheck_hours),
        )
        if use_cached and app_ids
        else {}
    )
    feed = _IgdbFeed(asked, settings, transport, kept=kept, cached=cached, ready=ready)
    # The store's client stays open until IGDB's look-ups are done: a client closes its
    # transport, and a transport passed in (tests, the bench) serves both at once.
    async with AsyncExitStack() as clients:
        try:
            types, unsure = await _store_types(
                asked,
                settings,
                app_cache,
                costs,
                now=now,
                transport=transport,
                clients=clients,
                on_types=feed.settle,
            )
            progress()
            # Decided as each batch arrived, unless GetItems failed (then without its types).
            early = feed.decisions if not unsure else {}
            settled = {
                row.appid: early.get(row.appid)
                or decide(
                    name=row.name,
                    store=types.get(row.appid),
                    igdb_entry=None,
                    kept=row.appid in kept,
                )
                for row in asked
            }
            answers = await _igdb_answers(
                asked,
                types,
                settled,
                settings,
                app_cache,
                costs,
                now=now,
                feed=feed,
                cached=cached,
                use_cached=use_cached,
            )
        finally:
            costs.igdb_requests += await feed.close()
    return types, unsure, settled, answers


#: Told of an app the store files as a non-game: (app id, store type, decision).
_Ready = Callable[[int, StoreType, Decision], None]

#: Rows `_Ahead` builds before it lets the event loop read and send again (a few milliseconds).
_AHEAD_SLICE = 32


class _Ahead:
    """Rows built and encoded ahead of the final pass, by a task that works in slices and
    yields between them: the work fills the waits for GetItems and IGDB instead of holding up
    the reading of their answers and the sending of the next requests."""

    def __init__(self, encode: _Ready) -> None:
        self._encode = encode
        self._queue: deque[tuple[int, StoreType, Decision]] = deque()
        self._queued = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    def add(self, app: int, store: StoreType, decision: Decision) -> None:
        self._queue.append((app, store, decision))
        self._queued.set()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        queue = self._queue
        while not self._closing:
            await self._queued.wait()
            self._queued.clear()
            while queue and not self._closing:
                for _ in range(min(_AHEAD_SLICE, len(queue))):
                    self._encode(*queue.popleft())
                await asyncio.sleep(0)

    async def close(self, *, keep: bool) -> None:
        """Stop the task; encode what is still queued (`keep`) or drop it.

        The task is told to end rather than cancelled: a cancellation's traceback would hold
        its frame, so the task, this object and every row it can reach would wait for the
        cyclic collector (which stage 2 pauses) instead of being freed on return."""
        task, self._task = self._task, None
        if task is not None:
            self._closing = True
            self._queued.set()
            await task  # it waits or yields between rows: no row is left half done
        while keep and self._queue:
            self._encode(*self._queue.popleft())
        self._queue.clear()


#: Steam uids one full IGDB request asks (10 sub-queries of 450): the look-ups started while
#: GetItems is answering are this size, so they add up to the requests of one bulk look-up.
_FULL_REQUEST = MAX_SUBQUERIES * MAX_KEYS_PER_SUBQUERY


class _IgdbFeed:
    """IGDB's look-ups by Steam uid, started while GetItems is still answering.

    An app the store's answer (or the shared cache's type) leaves open, and whose IGDB answer
    neither cache holds, is queued the moment its batch arrives. The token is asked as soon as
    the first one is known, and each full request's worth of uids is sent at once; the rest go
    with the titles in `_igdb_answers`. The client opens only when IGDB is to be asked.
    """

    def __init__(
        self,
        rows: Sequence[RawGameRow],
        settings: Settings,
        transport: httpx.AsyncBaseTransport | None,
        *,
        kept: frozenset[int],
        cached: Mapping[int, IgdbAnswer],
        ready: _Ready | None = None,
    ) -> None:
        self._names = {row.appid: row.name for row in rows}
        self._ready = ready
        self._settings = settings
        self._transport = transport
        self._kept = kept
        self._cached = cached
        self._in_process = process_caches(settings.igdb_cache_ttl_seconds).apps
        #: Each app's decision before IGDB, made as its store type arrived.
        self.decisions: dict[int, Decision] = {}
        self._queued: list[int] = []
        self._seen: set[int] = set()
        self._client: asyncio.Task[IgdbClient] | None = None
        self._lookups: list[asyncio.Task[SteamLookup]] = []
        self._stack = AsyncExitStack()
        # Captured here, outside GetItems' share of the budget: IGDB gets the stage's own.
        self._context = contextvars.copy_context()

    def settle(self, types: Mapping[int, StoreType]) -> None:
        for app, store in types.items():
            name = self._names.get(app)
            if name is None:
                continue
            decision = decide(name=name, store=store, igdb_entry=None, kept=app in self._kept)
            self.decisions[app] = decision
            if not _is_open(decision, store):
                if self._ready is not None:
                    self._ready(app, store, decision)
            elif (
                app not in self._cached
                and app not in self._seen
                and not self._in_process.holds(app)
            ):
                self._seen.add(app)
                self._queued.append(app)
        if self._queued and self._client is None:
            self._client = self._task(self._open())
        while len(self._queued) >= _FULL_REQUEST:
            chunk = self._queued[:_FULL_REQUEST]
            del self._queued[:_FULL_REQUEST]
            self._lookups.append(self._task(self._lookup(chunk)))

    def _task(self, work: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        return asyncio.get_running_loop().create_task(work, context=self._context.copy())

    async def _open(self) -> IgdbClient:
        igdb = await self._stack.enter_async_context(
            IgdbClient.from_settings(self._settings, transport=self._transport)
        )
        await igdb.warm_up()
        return igdb

    async def _lookup(self, app_ids: list[int]) -> SteamLookup:
        igdb = await self.client()
        return await igdb.lookup_steam_apps(app_ids)

    async def client(self) -> IgdbClient:
        """The IGDB client, opened (and its token asked) now if no app opened it yet."""
        if self._client is None:
            self._client = self._task(self._open())
        return await self._client

    async def found(self) -> dict[int, list[IgdbGame]]:
        """What the look-ups started early found, per Steam app id."""
        found: dict[int, list[IgdbGame]] = {}
        for lookup in await asyncio.gather(*self._lookups):
            found.update(lookup.by_app_id)
        return found

    async def close(self) -> int:
        """Stop what is still running (a failed stage), close the client; its request count."""
        tasks = [task for task in (self._client, *self._lookups) if task is not None]
        for task in tasks:
            task.cancel()  # a done task ignores it
        await asyncio.gather(*tasks, return_exceptions=True)
        sent = 0
        client = self._client
        if client is not None and not client.cancelled() and client.exception() is None:
            sent = client.result().requests_sent
        await self._stack.aclose()
        return sent


async def _store_types(
    rows: Sequence[RawGameRow],
    settings: Settings,
    app_cache: AppCache,
    costs: _Costs,
    *,
    now: datetime,
    transport: httpx.AsyncBaseTransport | None,
    clients: AsyncExitStack,
    on_types: Callable[[Mapping[int, StoreType]], None] = lambda types: None,
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
    on_types(types)
    if not missing:
        return types, frozenset()
    try:
        with budget_share(STORE_BUDGET_SHARE):
            store = await clients.enter_async_context(
                SteamStoreClient.from_settings(settings, transport=transport)
            )
            try:
                fetched = await store.get_app_types(missing, on_batch=on_types)
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
    feed: _IgdbFeed,
    cached: Mapping[int, IgdbAnswer],
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
    answers = {app: cached[app] for app in app_ids if app in cached}
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
    variants = {row.appid: title_variants(row.name) for row in need_titles}
    igdb = await feed.client()
    early = await feed.found()  # the ids asked while GetItems was answering
    lookup = await igdb.lookup_steam_apps(
        [row.appid for row in ask_ids if row.appid not in early],
        titles=[variant for row in need_titles for variant in variants[row.appid]],
        titles_if_free=True,
    )
    lookup.by_app_id.update(early)
    for row in ask_ids:
        changed[row.appid] = IgdbAnswer(games=tuple(lookup.by_app_id.get(row.appid, ())))
    answers.update(changed)
    still = [
        row
        for row in need_titles
        if open_apps[row.appid]
        and not answers[row.appid].games
        and not all(variant in lookup.by_title for variant in variants[row.appid])
    ]
    if still:
        more = await igdb.lookup_steam_apps(
            [], titles=[variant for row in still for variant in variants[row.appid]]
        )
        lookup.by_title.update(more.by_title)
    for row in need_titles:
        if all(variant in lookup.by_title for variant in variants[row.appid]):
            found = tuple(
                game for variant in variants[row.appid] for game in lookup.by_title[variant]
            )
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


class _Counted(NamedTuple):
    status: MatchStatus
    method: MatchMethod
    kind: str
    reason: str
    enriched_at: datetime | None


class _Tally:
    """The counts behind `summarize`, taken one row at a time."""

    def __init__(self) -> None:
        self.statuses: Counter[MatchStatus] = Counter()
        self.by_title = 0
        self.filtered_by_kind: Counter[str] = Counter()
        self.filtered_by_reason: Counter[str] = Counter()
        #: Games passed through as committed cells.
        self.passed_games = 0
        #: The oldest decision per status (matched and unmatched games).
        self.oldest: dict[MatchStatus, datetime] = {}

    def count(self, row: EnrichedGameRow) -> EnrichedGameRow:
        self.count_summary(self.summary(row))
        return row

    @staticmethod
    def summary(row: EnrichedGameRow) -> _Counted:
        """What `count` reads of a row (kept instead of the row for a row encoded ahead)."""
        return _Counted(
            row.match_status,
            row.match_method,
            row.kind.value,
            row.reason or row.classifier_rule,
            row.enriched_at,
        )

    def count_summary(self, row: _Counted) -> None:
        self.statuses[row.status] += 1
        if row.status is MatchStatus.MATCHED and row.method is MatchMethod.TITLE:
            self.by_title += 1
        if row.status is MatchStatus.FILTERED:
            self.filtered_by_kind[row.kind] += 1
            self.filtered_by_reason[row.reason] += 1
        elif row.enriched_at is not None:
            self._decided(row.status, row.enriched_at)

    def count_cells(self, cells: list[str]) -> None:
        """Count a row passed through as the cells of a committed enriched CSV."""
        status = MatchStatus(cells[_INDEX["match_status"]])
        self.statuses[status] += 1
        if status is MatchStatus.FILTERED:
            self.filtered_by_kind[cells[_INDEX["kind"]]] += 1
            self.filtered_by_reason[
                cells[_INDEX["reason"]] or cells[_INDEX["classifier_rule"]]
            ] += 1
            return
        self.passed_games += 1
        if status is MatchStatus.MATCHED and cells[_INDEX["match_method"]] == MatchMethod.TITLE:
            self.by_title += 1
        decided = _moment(cells[_INDEX["enriched_at"]])
        if decided is not None:
            self._decided(status, decided)

    def _decided(self, status: MatchStatus, moment: datetime) -> None:
        oldest = self.oldest.get(status)
        if oldest is None or moment < oldest:
            self.oldest[status] = moment

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
