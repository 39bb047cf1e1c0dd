"""Stage 3, database_import: enriched CSV → set-based upserts into the app's schema.

Owns: engines and their errors (`engine`), the schema and its drift check (`schema`, `drift`),
the per-table records (`payloads`), the set-based SQL (`upserts`), the one-transaction writer
(`loader`), the app's users (`users`), ids (`ids`) and this project's own state (`own_state`).
Imports clients and models only.
"""
