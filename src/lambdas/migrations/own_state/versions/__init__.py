"""Own-state revision scripts (loaded by path by Alembic), named sNNNN_<what>.py."""
