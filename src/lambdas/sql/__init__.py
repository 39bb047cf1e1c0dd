"""Database access shared by both schemas, owning no table of either.

Owns: engines from a URL and the translation of their errors into typed ones (`engine`), and what
differs between PostgreSQL and SQLite in this project's SQL (`dialect`). The app's schema
(`lambdas.database`) and this project's own state (`lambdas.state`) both build on it; it imports
neither. Imports errors and config only.
"""
