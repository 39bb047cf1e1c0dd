"""The app's enum types as Python values, with no SQLAlchemy import (stage 3's cold start)."""

from __future__ import annotations

from enum import StrEnum


class Storefront(StrEnum):
    STEAM = "STEAM"
    PLAYSTATION = "PLAYSTATION"
    XBOX = "XBOX"


class IgdbMatchStatus(StrEnum):
    PENDING = "PENDING"
    MATCHED = "MATCHED"
    UNMATCHED = "UNMATCHED"
    IGNORED = "IGNORED"


class LibraryItemStatus(StrEnum):
    """The seed era's labels, which the standalone schema keeps; the app's enum has changed since
    (`lambdas.database.profiles` maps by the labels the live enum has)."""

    CURIOUS_ABOUT = "CURIOUS_ABOUT"
    CURRENTLY_EXPLORING = "CURRENTLY_EXPLORING"
    TOOK_A_BREAK = "TOOK_A_BREAK"
    EXPERIENCED = "EXPERIENCED"
    WISHLIST = "WISHLIST"
    REVISITING = "REVISITING"


class AcquisitionType(StrEnum):
    PHYSICAL = "PHYSICAL"
    DIGITAL = "DIGITAL"
    SUBSCRIPTION = "SUBSCRIPTION"
