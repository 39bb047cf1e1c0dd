"""Which of a user's Steam apps were already placed in the library: an import adds a
LibraryItem for an app once, and never again after the user removed it.

An app counts as placed when its live ImportedGame row was MATCHED before this import: a game
that reached the library (by this pipeline in `library` mode, by `link`, or by the app's own
import, which sets MATCHED when it adds the item). Curate mode leaves new matches PENDING, so they
are not placed until the user, or a later `library` import, adds them.
"""

from __future__ import annotations

from sqlalchemy import select

from lambdas.database.upserts import Writer, _enum_value
from lambdas.models.app_enums import IgdbMatchStatus, Storefront


def already_placed(w: Writer) -> frozenset[str]:
    """The user's app ids (as ImportedGame.storefrontGameId text) placed before this import:
    one statement, read before the ImportedGame upsert changes any status."""
    imported = w.tables.imported
    matched = _enum_value(imported.c.igdbMatchStatus, IgdbMatchStatus.MATCHED.value)
    stmt = select(imported.c.storefrontGameId).where(
        imported.c.userId == w.owner,
        imported.c.storefront == _enum_value(imported.c.storefront, Storefront.STEAM.value),
        imported.c.igdbMatchStatus == matched,
        imported.c.deletedAt.is_(None),
    )
    return frozenset(app for app in w.connection.execute(stmt).scalars() if app is not None)
