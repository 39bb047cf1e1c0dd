"""DDL of the app's own schemas (SavePoint), written from the app's migrations as documented."""
