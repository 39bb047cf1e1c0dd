"""Alembic revision scripts (loaded by path by Alembic)."""
