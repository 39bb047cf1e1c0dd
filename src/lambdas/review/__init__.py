"""The review list: unmatched games, and the ways out of it (link, ignore).

Builds on `enrichment` (matching a linked game) and `database` (writing it).
"""
