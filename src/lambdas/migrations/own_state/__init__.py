"""Alembic revisions of this project's own state (`lambdas.state`), on every database it lives in.

A chain apart from the standalone schema's (`lambdas/migrations/versions`): it runs on the app's
PostgreSQL too, where only the `steam_import` schema is ours, and records its revision in
`steam_import.own_state_version` (in the file on SQLite). `lambdas.state.migrate` runs it.
"""
