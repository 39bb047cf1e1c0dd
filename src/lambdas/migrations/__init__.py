"""Alembic revisions, shipped in the package so `db upgrade` and `db own-state` work anywhere.

Two chains: the standalone schema's (`env.py`, `versions/`, version table `alembic_version`),
and own state's (`own_state/`, version table `own_state_version`), which runs on the app's
database too. Neither is in the Lambda zip.
"""
