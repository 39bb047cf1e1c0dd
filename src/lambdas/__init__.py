"""Steam library import pipeline: Steam → IGDB enrichment → the app's PostgreSQL schema."""

__version__ = "0.1.0"
