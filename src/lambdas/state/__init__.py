"""This project's own state: the `steam_import` schema, apart from the app's tables.

Owns: the schema's metadata, whether its tables are there and which revision they are at
(`schema`), the shared app cache of Steam store types and IGDB answers (`app_cache`), the user's
filtered apps and `keep` overrides (`filtered`), and the Alembic entry point of its own migration
chain (`migrate`; the revisions are in `lambdas/migrations/own_state/`, outside the Lambda zip).

On PostgreSQL every table here lives in the `steam_import` schema, which the app's Prisma
migrations never manage, and its revision is recorded there too (`own_state_version`); on
SQLite, which has no schemas, the same tables sit in the database file.

Not here: the app's tables (users, imported games, games, genres, platforms, library items),
which belong to the app; `lambdas.database` writes them. Stage 2 reads this package and never
`lambdas.database`. Imports the foundation packages and `lambdas.sql` only.
"""
