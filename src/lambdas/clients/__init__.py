"""Talking to the outside: Steam Web API, Twitch + IGDB, S3 or the local folder.

Each client owns its transport, timeouts, retries and the translation of foreign errors into
ours. Clients import models, config and errors only, never a stage package.
"""
