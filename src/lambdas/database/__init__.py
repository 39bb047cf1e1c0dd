"""Stage 3, database_import: enriched CSV → set-based upserts into the app's schema.

Owns the app's side only: the schema profiles (`profiles`), their tables (`tables`), the live
fit and drift checks (`checks`, `drift`), the per-table records (`payloads`), the set-based SQL
(`upserts`), the one-transaction writer (`loader`), the app's users (`users`), ids (`ids`), and
the schema commands' entry points (`schema`: `db upgrade`, `db own-state`, `db check`).

This project's own state (schema `steam_import`) is not here but in `lambdas.state`, which the
loader calls to record filtered apps; engines and dialect pieces are in `lambdas.sql`.
Imports clients, models, `sql` and `state` only.
"""
