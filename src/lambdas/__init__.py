"""Steam library import pipeline: Steam → IGDB enrichment → the app's PostgreSQL schema."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    # Looked up on demand: importlib.metadata costs a Lambda cold start ~40 ms it never needs.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("steam-library-import")
        except PackageNotFoundError:  # a source tree on sys.path, not installed (the Lambda zip)
            return "0+unknown"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
