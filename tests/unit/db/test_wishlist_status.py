"""The wishlist status of each LibraryItemStatus enum the app has had, and its override."""

from __future__ import annotations

import pytest

from lambdas.database.profiles import status_rule

TODAY = ["WISHLIST", "SHELF", "UP_NEXT", "PLAYING", "PLAYED"]
EARLY_2026 = ["WANT_TO_PLAY", "OWNED", "PLAYING", "PLAYED"]
SEED_ERA = ["CURIOUS_ABOUT", "CURRENTLY_EXPLORING", "TOOK_A_BREAK", "EXPERIENCED", "WISHLIST"]


@pytest.mark.parametrize(
    ("labels", "wishlist"),
    [(TODAY, "WISHLIST"), (EARLY_2026, "WANT_TO_PLAY"), (SEED_ERA, "WISHLIST"), (None, "WISHLIST")],
)
def test_each_era_has_its_wishlist_label(labels: list[str] | None, wishlist: str) -> None:
    rule = status_rule(labels)
    assert rule.wishlist == wishlist
    assert wishlist in rule.labels()  # so `db check` and the import verify it is live


def test_library_status_wishlist_overrides_the_enum() -> None:
    assert status_rule(TODAY, wishlist="UP_NEXT").wishlist == "UP_NEXT"


def test_an_unknown_enum_has_no_wishlist_status_unless_configured() -> None:
    rule = status_rule(["MINE", "THEIRS"], unplayed="MINE", played="THEIRS")
    assert rule.wishlist is None and rule.labels() == ["MINE", "THEIRS"]
    assert status_rule(["MINE"], unplayed="MINE", played="MINE", wishlist="MINE").wishlist == "MINE"
