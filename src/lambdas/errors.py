"""Typed pipeline errors, each carrying one machine-readable code.

The tree::

    PipelineError                  (code, transient, message)
    ├── PermanentError             success: false + error_code; never retried
    │   ├── InvalidSteamIdError        INVALID_STEAM_ID
    │   ├── ProfileNotFoundError       PROFILE_NOT_FOUND
    │   ├── PrivateProfileError        PRIVATE_PROFILE
    │   ├── EmptyLibraryError          EMPTY_LIBRARY
    │   ├── SteamAuthError             STEAM_AUTH_FAILED
    │   ├── IgdbAuthError              IGDB_AUTH_FAILED
    │   ├── IgdbQueryError             IGDB_QUERY_REJECTED
    │   ├── InvalidUserIdError         INVALID_USER_ID
    │   ├── InvalidLocationError       INVALID_LOCATION
    │   ├── ForbiddenLocationError     FORBIDDEN_LOCATION
    │   ├── LocationNotFoundError      LOCATION_NOT_FOUND
    │   ├── MalformedCsvError          MALFORMED_CSV
    │   ├── UserNotFoundError          USER_NOT_FOUND
    │   ├── ImportedGameNotFoundError  GAME_NOT_FOUND
    │   ├── IgdbGameNotFoundError      IGDB_GAME_NOT_FOUND
    │   ├── NotAGameError              NOT_A_GAME
    │   ├── SteamAccountChangedError   STEAM_ACCOUNT_CHANGED
    │   ├── SchemaDriftError           SCHEMA_DRIFT
    │   ├── AppOwnedSchemaError        APP_OWNED_SCHEMA
    │   ├── OwnStateMissingError       OWN_STATE_MISSING
    │   ├── DatabaseRefusedError       DATABASE_REFUSED
    │   ├── ConfigurationError         CONFIGURATION_ERROR
    │   └── InvalidEventError          INVALID_EVENT
    └── TransientError             raised out of the handler so Step Functions' Retry applies
        ├── SteamRateLimitedError      STEAM_RATE_LIMITED
        ├── IgdbRateLimitedError       IGDB_RATE_LIMITED
        ├── UpstreamUnavailableError   UPSTREAM_UNAVAILABLE
        ├── StorageUnavailableError    STORAGE_UNAVAILABLE
        └── DatabaseUnavailableError   DATABASE_UNAVAILABLE

Each class also has the process exit code the CLI uses (sysexits.h values: 65 bad data, 66 not
found, 67 private, 68 empty, 70 schema drift, 75 try again later, 77 refused, 78 configuration).

Transient errors are the ones a later attempt can fix (timeouts, 5xx, 429 after the client's own
bounded retries); everything else is permanent and reported, not retried.
"""

from __future__ import annotations

from typing import ClassVar


class PipelineError(Exception):
    """Root of every error the pipeline reports; carries a stable `code`."""

    code: ClassVar[str] = "PIPELINE_ERROR"
    transient: ClassVar[bool] = False
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class PermanentError(PipelineError):
    """A failure that retrying cannot fix; reported as `success: false`."""


class TransientError(PipelineError):
    """A failure a later attempt may not meet; raised so orchestration retries."""

    transient: ClassVar[bool] = True
    exit_code: ClassVar[int] = 75  # EX_TEMPFAIL: try again later


class InvalidSteamIdError(PermanentError):
    """The Steam account text is not a SteamID, profile URL or vanity name."""

    code = "INVALID_STEAM_ID"
    exit_code = 65


class ProfileNotFoundError(PermanentError):
    """No Steam account matches the vanity name or id."""

    code = "PROFILE_NOT_FOUND"
    exit_code = 66


class PrivateProfileError(PermanentError):
    """The profile or its game details are not public."""

    code = "PRIVATE_PROFILE"
    exit_code = 67


class EmptyLibraryError(PermanentError):
    """The library holds no games (used where an empty library cannot proceed)."""

    code = "EMPTY_LIBRARY"
    exit_code = 68


class SteamAuthError(PermanentError):
    """Steam refused the Web API key."""

    code = "STEAM_AUTH_FAILED"
    exit_code = 77


class IgdbAuthError(PermanentError):
    """Twitch refused the IGDB client id or secret, or IGDB refused a fresh token."""

    code = "IGDB_AUTH_FAILED"
    exit_code = 77


class IgdbQueryError(PermanentError):
    """IGDB rejected a query (400/403/404): a field IGDB removed, or a wrong IGDB_API_BASE_URL."""

    code = "IGDB_QUERY_REJECTED"
    exit_code = 70


class InvalidArgumentError(PermanentError):
    """A command-line usage error: an unknown command or option, a required option missing, a
    value of the wrong type or out of range."""

    code = "INVALID_ARGUMENT"
    exit_code = 64


class InvalidUserIdError(PermanentError):
    """The user id is empty, too long or carries path syntax."""

    code = "INVALID_USER_ID"
    exit_code = 65


class InvalidLocationError(PermanentError):
    """A storage location that is not a well-formed `s3://` URI or local path."""

    code = "INVALID_LOCATION"
    exit_code = 65


class ForbiddenLocationError(PermanentError):
    """A location outside the configured storage or the event user's prefix."""

    code = "FORBIDDEN_LOCATION"
    exit_code = 77


class LocationNotFoundError(PermanentError):
    """A well-formed, allowed location that holds no object."""

    code = "LOCATION_NOT_FOUND"
    exit_code = 66


class MalformedCsvError(PermanentError):
    """A stored CSV that does not have the expected header or rows."""

    code = "MALFORMED_CSV"
    exit_code = 65


class UserNotFoundError(PermanentError):
    """The app has no User with this id."""

    code = "USER_NOT_FOUND"
    exit_code = 66


class ImportedGameNotFoundError(PermanentError):
    """The user has no imported Steam app with this app id."""

    code = "GAME_NOT_FOUND"
    exit_code = 66


class IgdbGameNotFoundError(PermanentError):
    """IGDB has no game with this id."""

    code = "IGDB_GAME_NOT_FOUND"
    exit_code = 66


class NotAGameError(PermanentError):
    """A manual link to an IGDB entry that is a DLC, bundle, pack, update or mod."""

    code = "NOT_A_GAME"
    exit_code = 65


class SteamAccountChangedError(PermanentError):
    """The user is linked to another Steam account; `--relink` replaces the link on purpose."""

    code = "STEAM_ACCOUNT_CHANGED"
    exit_code = 65


class SchemaDriftError(PermanentError):
    """The live database schema differs from the models."""

    code = "SCHEMA_DRIFT"
    exit_code = 70


class AppOwnedSchemaError(PermanentError):
    """`db upgrade` on a database whose schema the app's Prisma migrations own: refused."""

    code = "APP_OWNED_SCHEMA"
    exit_code = 77


class OwnStateMissingError(PermanentError):
    """A command needs this project's own state (schema `steam_import`) and finds it missing or
    behind this version's revision; `steam-import db own-state` creates or upgrades it."""

    code = "OWN_STATE_MISSING"
    exit_code = 78  # EX_CONFIG: the database is not set up for this command yet


class DatabaseRefusedError(PermanentError):
    """The database refused a statement for a reason a retry cannot change (permissions, a
    constraint, data it cannot hold); the transaction was rolled back."""

    code = "DATABASE_REFUSED"
    exit_code = 70


class ConfigurationError(PermanentError):
    """A setting the stage needs is missing or invalid."""

    code = "CONFIGURATION_ERROR"
    exit_code = 78


class InvalidEventError(PermanentError):
    """A handler event that lacks fields or has fields of the wrong type."""

    code = "INVALID_EVENT"
    exit_code = 65


class SteamRateLimitedError(TransientError):
    """Steam kept answering 429 after the client's retries."""

    code = "STEAM_RATE_LIMITED"


class IgdbRateLimitedError(TransientError):
    """IGDB kept answering 429 after the client's retries."""

    code = "IGDB_RATE_LIMITED"


class UpstreamUnavailableError(TransientError):
    """Steam, Twitch or IGDB timed out, refused connections or answered 5xx."""

    code = "UPSTREAM_UNAVAILABLE"


class StorageUnavailableError(TransientError):
    """Object storage could not be reached or failed the request."""

    code = "STORAGE_UNAVAILABLE"


class DatabaseUnavailableError(TransientError):
    """The database connection failed or was lost; the transaction was rolled back."""

    code = "DATABASE_UNAVAILABLE"


def all_error_types() -> list[type[PipelineError]]:
    """Every concrete error class, for documentation and state-machine checks."""
    found: list[type[PipelineError]] = []
    pending: list[type[PipelineError]] = [PipelineError]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            pending.append(sub)
            if sub not in (PermanentError, TransientError):
                found.append(sub)
    return sorted(found, key=lambda c: c.code)
