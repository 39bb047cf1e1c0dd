"""Alembic revisions of the app schema, shipped in the package so `db upgrade` works anywhere."""
