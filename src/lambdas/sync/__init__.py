"""Periodic sync: one import per user with a Steam account connected; one failure stops none.

Builds on `pipeline` and `database.users`.
"""
