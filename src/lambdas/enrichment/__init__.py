"""Stage 2, igdb_enrichment: raw CSV → each app classified → games matched to IGDB → enriched CSV.

Owns: classification (`classifier`), the matching rules and title fallback (`matching`), and the
stage itself (`enrich`). Imports clients and models only.
"""
