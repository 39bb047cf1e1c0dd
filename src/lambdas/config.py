"""Settings for every stage, read once from the environment (and AWS Secrets Manager in Lambda)."""

from __future__ import annotations

import json
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from lambdas.errors import ConfigurationError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from mypy_boto3_secretsmanager import SecretsManagerClient

LogFormat = Literal["json", "console"]

# The upstream defaults' one home: Settings' defaults and the clients' constructor defaults.
STEAM_API_BASE_URL = "https://api.steampowered.com"
IGDB_API_BASE_URL = "https://api.igdb.com/v4"
TWITCH_TOKEN_URL = "https://id.twitch.tv/oauth2/token"  # noqa: S105 - a URL
HTTP_CONNECT_TIMEOUT = 5.0
HTTP_READ_TIMEOUT = 30.0
# The largest real answer is GetOwnedGames with app info: 6.3 MB for a 20,000-game library (the
# largest Steam libraries hold about twice that); IGDB's multiquery pages (10 × 500 rows of a few
# fields) are smaller. The cap leaves room above them and stays far below a Lambda's memory.
HTTP_MAX_RESPONSE_BYTES = 32 * 1024 * 1024
HTTP_ATTEMPT_TIMEOUT = 60.0
# Under the shortest stage Lambda timeout (120 s in infra/template.yaml) with time to report.
STAGE_TIME_BUDGET_SECONDS = 100.0


class Settings(BaseSettings):
    """Every variable the pipeline reads. Field `x` is the environment variable `X`."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    # Upstream credentials (secrets) and where to fetch them in Lambda.
    steam_api_key: SecretStr | None = None
    steam_api_key_secret_arn: str | None = None
    igdb_client_id: str | None = None
    igdb_client_secret: SecretStr | None = None
    igdb_secret_arn: str | None = Field(
        default=None, description='ARN of a JSON secret {"client_id": …, "client_secret": …}'
    )

    # The key stage 2 signs enriched CSVs with and stage 3 verifies them with (HMAC-SHA256);
    # unset outside Lambda: a key generated once into <DATA_DIR>/enriched-csv.key.
    enriched_csv_key: SecretStr | None = Field(default=None, min_length=32)
    enriched_csv_key_secret_arn: str | None = None

    # Storage and database.
    data_dir: Path = Path(".steam-import")
    database_url: SecretStr | None = None
    database_secret_arn: str | None = Field(
        default=None, description="ARN of a secret holding a URL or an RDS-style JSON secret"
    )
    # Which app schema stage 3 writes into (`auto`: detected by reflection) and how: `library`
    # makes LibraryItems of matched games, `curate` leaves adding them to the user in the app.
    app_schema: Literal["auto", "standalone", "savepoint-2025", "savepoint-2026"] = "auto"
    import_mode: Literal["library", "curate"] = "library"
    # LibraryItem status of a new library entry: unset, each is chosen by the labels the live
    # LibraryItemStatus enum has (today's app: SHELF, PLAYING when played within
    # LIBRARY_STATUS_RECENT_DAYS; the seed era: CURIOUS_ABOUT / EXPERIENCED). A set value must
    # be a live label (`steam-import db check` verifies this before any import).
    library_status_unplayed: str | None = Field(default=None, min_length=1, max_length=63)
    library_status_played: str | None = Field(default=None, min_length=1, max_length=63)
    library_status_playing: str | None = Field(default=None, min_length=1, max_length=63)
    library_status_recent_days: float = Field(default=7.0, ge=0, le=3650)
    # A Steam answer with fewer games than this share of the user's stored library is reported
    # as suspicious (a partial answer never deletes anything either way).
    suspicious_shrink_ratio: float = Field(default=0.5, ge=0, le=1)
    # Every database wait is bounded: a stalled server or network ends in DATABASE_UNAVAILABLE.
    database_connect_timeout: int = Field(default=10, ge=2, le=300, description="seconds")
    database_statement_timeout: float = Field(default=120.0, gt=0, description="seconds")
    database_lock_timeout: float = Field(default=30.0, gt=0, description="seconds")
    database_keepalive_seconds: int = Field(
        default=30, ge=1, le=3600, description="TCP keepalive idle time; probes follow"
    )
    s3_bucket: str | None = None
    max_csv_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024,
        description="largest stored CSV a stage reads; checked before reading",
    )
    s3_endpoint_url: str | None = None
    aws_region: str = "us-east-1"

    # Upstream addresses, so every client can be pointed at the sandbox.
    steam_api_base_url: str = STEAM_API_BASE_URL
    igdb_api_base_url: str = IGDB_API_BASE_URL
    twitch_token_url: str = TWITCH_TOKEN_URL

    # HTTP behaviour.
    http_connect_timeout: float = Field(default=HTTP_CONNECT_TIMEOUT, gt=0)
    http_read_timeout: float = Field(default=HTTP_READ_TIMEOUT, gt=0)
    http_attempt_timeout: float = Field(
        default=HTTP_ATTEMPT_TIMEOUT, gt=0, description="seconds for one whole request and answer"
    )
    http_max_response_bytes: int = Field(
        default=HTTP_MAX_RESPONSE_BYTES, ge=1024, description="largest answer body read"
    )
    stage_time_budget_seconds: float = Field(
        default=STAGE_TIME_BUDGET_SECONDS,
        gt=0,
        description="a stage's upstream attempts and retry waits end by then (Lambda: also its "
        "remaining time less a margin)",
    )
    steam_max_attempts: int = Field(default=5, ge=1, le=20)
    igdb_max_attempts: int = Field(default=6, ge=1, le=20)
    retry_initial_wait_seconds: float = Field(default=0.5, gt=0)
    retry_max_wait_seconds: float = Field(default=20.0, gt=0)

    # Steam store types (stage 2): IStoreBrowseService/GetItems, shared across users.
    steam_store_types: bool = Field(default=True, description="ask Steam's store for app types")
    steam_store_batch_size: int = Field(default=100, ge=1, le=1000, description="ids per call")
    steam_store_max_in_flight: int = Field(default=8, ge=1, le=32)
    steam_type_ttl_days: float = Field(default=7, ge=0, description="reuse a known store type")

    # IGDB matching (stage 2).
    igdb_requests_per_second: int = Field(default=4, ge=1, le=100)
    igdb_max_in_flight: int = Field(default=8, ge=1, le=100)
    igdb_cache_ttl_seconds: float = Field(default=3600.0, ge=0)
    igdb_steam_source_id: int = Field(default=1, ge=1, description="external_game_sources: Steam")
    title_fallback: bool = Field(default=True, description="match unmapped games by exact title")
    enrichment_reuse_days: float = Field(default=30, ge=0, description="reuse recent matches")
    unmatched_recheck_hours: float = Field(default=24, ge=0, description="re-ask IGDB after")

    # AWS orchestration: the SQS intake starts executions; the scheduled sync fills the intake.
    state_machine_arn: str | None = Field(
        default=None, description="the import state machine the SQS starter starts executions of"
    )
    import_queue_url: str | None = Field(
        default=None, description="the SQS intake queue the scheduled sync sends requests to"
    )
    # The scheduled sync's share of the Steam key (100,000 calls/day) and how it spreads users.
    steam_daily_call_budget: int = Field(
        default=80_000, ge=0, description="Steam calls a day the scheduled sync may plan"
    )
    sync_runs_per_day: int = Field(
        default=1, ge=1, le=96, description="scheduled runs a day; each syncs its share of users"
    )
    sync_batch_users: int = Field(
        default=1_000,
        ge=1,
        description="steam-import sync: users fetched, then looked up together, per batch",
    )

    # How long a secret read from Secrets Manager is reused (Powertools Parameters' max_age).
    secrets_max_age_seconds: int = Field(default=300, ge=0, le=86_400)

    # Logging.
    log_level: str = "INFO"
    log_format: LogFormat | None = None

    @field_validator("sync_runs_per_day")
    @classmethod
    def _divides_the_day(cls, value: int) -> int:
        if (24 * 60) % value:
            raise ValueError("must divide the day into whole minutes (1, 2, 3, 4, 6, 8, 12, 24, …)")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"unknown log level {value!r}")
        return level

    @property
    def resolved_database_url(self) -> str:
        """DATABASE_URL, or a SQLite file in the data folder when unset."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{(self.data_dir / 'steam-import.db').resolve()}"

    def require_steam_api_key(self) -> SecretStr:
        """The Steam key, or a ConfigurationError naming the variable."""
        if self.steam_api_key is None or not self.steam_api_key.get_secret_value():
            raise ConfigurationError(
                "STEAM_API_KEY is not set (or STEAM_API_KEY_SECRET_ARN in Lambda); "
                "get a key at https://steamcommunity.com/dev/apikey"
            )
        return self.steam_api_key

    def require_igdb_credentials(self) -> tuple[str, SecretStr]:
        """IGDB client id and secret, or a ConfigurationError naming what is missing."""
        missing = [
            name
            for name, value in (
                ("IGDB_CLIENT_ID", self.igdb_client_id),
                (
                    "IGDB_CLIENT_SECRET",
                    self.igdb_client_secret.get_secret_value() if self.igdb_client_secret else None,
                ),
            )
            if not value
        ]
        if missing or self.igdb_client_id is None or self.igdb_client_secret is None:
            raise ConfigurationError(
                f"{' and '.join(missing)} not set (or IGDB_SECRET_ARN in Lambda); "
                "register an application at https://dev.twitch.tv/console"
            )
        return self.igdb_client_id, self.igdb_client_secret

    def secret_values(self) -> list[str]:
        """Every secret's plain value, so logging can redact it wherever it appears."""
        values = [
            secret.get_secret_value()
            for secret in (self.steam_api_key, self.igdb_client_secret, self.enriched_csv_key)
            if secret is not None
        ]
        password = _database_password(self.resolved_database_url)
        if password:
            values.extend({password, unquote(password)})  # as written in the URL, and decoded
        return [value for value in values if len(value) >= 4]


def _database_password(url: str) -> str | None:
    """The password in a database URL (parsed without SQLAlchemy: stages 1-2 never load it)."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    return password or None


def resolve_secrets(settings: Settings, client: SecretsManagerClient | None = None) -> Settings:
    """Fill secrets named by `*_SECRET_ARN` from AWS Secrets Manager, unless already set.

    Values come through Powertools Parameters, cached `SECRETS_MAX_AGE_SECONDS`: a warm Lambda
    container asks again after that, so a rotated secret arrives without a redeploy.
    """
    updates: dict[str, Any] = {}
    arns = (
        settings.steam_api_key_secret_arn,
        settings.igdb_secret_arn,
        settings.database_secret_arn,
        settings.enriched_csv_key_secret_arn,
    )
    if not any(arns):
        return settings
    from aws_lambda_powertools.utilities.parameters import GetParameterError

    provider = (
        _client_secrets_provider(client)
        if client is not None
        else _secrets_provider(settings.aws_region)
    )

    def fetch(arn: str) -> str:
        try:
            value = provider.get(arn, max_age=settings.secrets_max_age_seconds)
        except GetParameterError as exc:
            cause = exc.__cause__ or exc.__context__ or exc  # Powertools wraps boto's error
            raise ConfigurationError(f"cannot read secret {arn}: {type(cause).__name__}") from cause
        if not isinstance(value, str):
            raise ConfigurationError(f"secret {arn} holds no text (a binary secret?)")
        return value

    if settings.steam_api_key_secret_arn and settings.steam_api_key is None:
        updates["steam_api_key"] = SecretStr(fetch(settings.steam_api_key_secret_arn).strip())
    if settings.igdb_secret_arn and settings.igdb_client_secret is None:
        payload = _json_secret(fetch(settings.igdb_secret_arn), "IGDB_SECRET_ARN")
        updates["igdb_client_id"] = str(payload.get("client_id", "")) or settings.igdb_client_id
        updates["igdb_client_secret"] = SecretStr(str(payload.get("client_secret", "")))
    if settings.database_secret_arn and settings.database_url is None:
        updates["database_url"] = SecretStr(
            _database_url_from_secret(fetch(settings.database_secret_arn))
        )
    if settings.enriched_csv_key_secret_arn and settings.enriched_csv_key is None:
        key = fetch(settings.enriched_csv_key_secret_arn).strip()
        if len(key) < 32:  # the field's own bound, which a copy does not check
            raise ConfigurationError(
                "the secret ENRICHED_CSV_KEY_SECRET_ARN names holds fewer than 32 characters"
            )
        updates["enriched_csv_key"] = SecretStr(key)
    return settings.model_copy(update=updates)


def _json_secret(text: str, variable: str) -> dict[str, Any]:
    """The JSON object a secret holds, or a ConfigurationError naming the variable of its ARN.

    Never the value, nor the parser's error chained (its `doc` is the secret's text).
    """
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(
            f"the secret {variable} names is not valid JSON "
            f"(line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(payload, dict):
        raise ConfigurationError(f"the secret {variable} names is not a JSON object")
    return payload


#: The keys of an RDS-style database secret without which no URL can be built.
_DATABASE_SECRET_KEYS = ("username", "password", "host")


def _database_url_from_secret(text: str) -> str:
    """A plain URL, or the JSON shape RDS-managed secrets use (`username`, `password`, `host`,
    optional `port` and `dbname`); anything else is a ConfigurationError naming
    DATABASE_SECRET_ARN and the faulty key, never a value."""
    from sqlalchemy.engine import URL, make_url
    from sqlalchemy.exc import ArgumentError

    stripped = text.strip()
    if not stripped.startswith(("{", "[")):
        try:
            make_url(stripped)
        except (ArgumentError, ValueError):  # their text quotes the value: not chained
            raise ConfigurationError(
                "the secret DATABASE_SECRET_ARN names is neither a database URL nor a JSON object"
            ) from None
        return stripped
    payload = _json_secret(stripped, "DATABASE_SECRET_ARN")
    missing = [key for key in _DATABASE_SECRET_KEYS if not payload.get(key)]
    if missing:
        raise ConfigurationError(f"the secret DATABASE_SECRET_ARN names lacks {', '.join(missing)}")
    port = payload.get("port")
    try:
        number = int(port) if port not in (None, "") else None
    except (TypeError, ValueError):
        number = None
    if port not in (None, "") and (number is None or not 0 < number < 65536):
        raise ConfigurationError(
            "the secret DATABASE_SECRET_ARN names has a port that is not a number from 1 to 65535"
        )
    database = payload.get("dbname") or payload.get("database")
    return URL.create(
        "postgresql+psycopg",
        username=str(payload["username"]),
        password=str(payload["password"]),
        host=str(payload["host"]),
        port=number,
        database=str(database) if database else None,
    ).render_as_string(hide_password=False)


@cache
def _secrets_provider(region: str) -> SecretsProvider:
    """One provider, and so one cache of secret values, per process and region."""
    import boto3
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=boto3.client("secretsmanager", region_name=region))


@cache
def _client_secrets_provider(client: SecretsManagerClient) -> SecretsProvider:
    """The same, around a given client (tests, other endpoints)."""
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=client)


@lru_cache(maxsize=1)
def environment_settings() -> Settings:
    """The environment's settings, read once per process (one Lambda container, one CLI run)."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']).upper()}: {error['msg']}"
            for error in exc.errors()
        )
        # `from None` on purpose: pydantic's text quotes every invalid input, and it is raised
        # before any secret is registered for redaction, so nothing could scrub a secret in it.
        raise ConfigurationError(f"invalid configuration: {problems}") from None
    except ValueError as exc:  # pydantic-settings' own (a value it cannot parse); same reason
        raise ConfigurationError(f"invalid configuration: {exc}") from None


def get_settings() -> Settings:
    """This process's settings with secrets resolved (from Powertools' cache while fresh)."""
    return resolve_secrets(environment_settings())


def reset_settings() -> None:
    """Forget the environment read and every cached secret (tests)."""
    environment_settings.cache_clear()
    _secrets_provider.cache_clear()
    _client_secrets_provider.cache_clear()
