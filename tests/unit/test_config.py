"""Settings: defaults, required values named when missing, Secrets Manager by ARN."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from pydantic import SecretStr

from lambdas.config import Settings, get_settings, resolve_secrets
from lambdas.errors import ConfigurationError


def test_embedded_defaults(tmp_path: Path) -> None:
    settings = Settings()
    assert settings.s3_bucket is None
    assert settings.data_dir == Path(".steam-import")
    assert (
        settings.resolved_database_url
        == f"sqlite:///{tmp_path / '.steam-import' / 'steam-import.db'}"
    )
    assert settings.steam_api_base_url == "https://api.steampowered.com"
    assert settings.log_format is None


def test_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEAM_API_KEY", "k" * 32)
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:pw@db:5432/app")
    monkeypatch.setenv("S3_BUCKET", "imports")
    monkeypatch.setenv("LOG_FORMAT", "json")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    settings = get_settings()
    assert settings.require_steam_api_key().get_secret_value() == "k" * 32
    assert "k" * 32 not in repr(settings)
    assert settings.resolved_database_url == "postgresql://app:pw@db:5432/app"
    assert settings.s3_bucket == "imports"
    assert settings.log_level == "DEBUG"
    assert get_settings() is settings  # read once per process


def test_missing_values_name_the_variable() -> None:
    settings = Settings()
    with pytest.raises(ConfigurationError, match="STEAM_API_KEY"):
        settings.require_steam_api_key()
    with pytest.raises(ConfigurationError, match="IGDB_CLIENT_ID and IGDB_CLIENT_SECRET"):
        settings.require_igdb_credentials()
    with pytest.raises(ConfigurationError, match="IGDB_CLIENT_SECRET"):
        Settings(igdb_client_id="id").require_igdb_credentials()
    client_id, secret = Settings(
        igdb_client_id="id", igdb_client_secret=SecretStr("s3cr3t")
    ).require_igdb_credentials()
    assert (client_id, secret.get_secret_value()) == ("id", "s3cr3t")


def test_invalid_values_are_configuration_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "chatty")
    with pytest.raises(ConfigurationError, match="log"):
        get_settings()


def test_invalid_settings_name_the_variable_but_never_echo_the_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Raised before any secret is registered for redaction: the text must not carry the input.
    monkeypatch.setenv("HTTP_READ_TIMEOUT", "s3cr3t-looking-value")
    with pytest.raises(ConfigurationError, match="HTTP_READ_TIMEOUT") as info:
        get_settings()
    assert "s3cr3t-looking-value" not in info.value.message
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_secret_values_for_redaction() -> None:
    settings = Settings(
        steam_api_key=SecretStr("steamkey123"),
        igdb_client_secret=SecretStr("twitchsecret"),
        database_url=SecretStr("postgresql://app:dbpass99@db/app"),
    )
    assert sorted(settings.secret_values()) == ["dbpass99", "steamkey123", "twitchsecret"]


def test_secrets_manager_by_arn(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("secretsmanager", endpoint_url=s3_server, region_name="us-east-1")
    steam = client.create_secret(Name="steam-key", SecretString="abcdef0123456789")["ARN"]
    igdb = client.create_secret(
        Name="igdb", SecretString=json.dumps({"client_id": "cid", "client_secret": "csecret"})
    )["ARN"]
    database = client.create_secret(
        Name="db",
        SecretString=json.dumps(
            {
                "username": "app",
                "password": "p@ss:/word",
                "host": "db.internal",
                "port": 5432,
                "dbname": "app",
            }
        ),
    )["ARN"]
    settings = resolve_secrets(
        Settings(
            steam_api_key_secret_arn=steam, igdb_secret_arn=igdb, database_secret_arn=database
        ),
        client,
    )
    assert settings.require_steam_api_key().get_secret_value() == "abcdef0123456789"
    assert settings.require_igdb_credentials()[0] == "cid"
    assert settings.require_igdb_credentials()[1].get_secret_value() == "csecret"
    url = settings.resolved_database_url
    assert url.startswith("postgresql+psycopg://app:")
    assert url.endswith("@db.internal:5432/app")
    assert "p@ss:/word" in settings.secret_values()

    explicit = resolve_secrets(
        Settings(steam_api_key=SecretStr("direct"), steam_api_key_secret_arn=steam), client
    )
    assert explicit.require_steam_api_key().get_secret_value() == "direct"

    with pytest.raises(ConfigurationError, match="cannot read secret") as missing:
        resolve_secrets(Settings(steam_api_key_secret_arn=steam + "-missing"), client)
    assert type(missing.value.__cause__).__name__ == "ResourceNotFoundException"
    with pytest.raises(ConfigurationError, match="IGDB_SECRET_ARN names is not valid JSON") as bad:
        resolve_secrets(Settings(igdb_secret_arn=steam), client)
    assert "abcdef0123456789" not in str(bad.value)
    assert bad.value.__cause__ is None and bad.value.__suppress_context__  # the parser's error
    # holds the secret's text as its `doc`: it is not chained where a traceback could print it


CANARY = "pw-Canary-7c1e"


@pytest.mark.parametrize(
    ("secret", "says"),
    [
        ('{"username": "app", "password": "' + CANARY + '", "host": "db", ', "not valid JSON"),
        (json.dumps([CANARY]), "not a JSON object"),
        (json.dumps({"username": "app", "password": CANARY}), "lacks host"),
        (json.dumps({"password": CANARY, "port": 5432}), "lacks username, host"),
        (
            json.dumps({"username": "app", "password": CANARY, "host": "db", "port": "54x2"}),
            "port that is not a number",
        ),
        (
            json.dumps({"username": "app", "password": CANARY, "host": "db", "port": 0}),
            "port that is not a number",
        ),
        (CANARY, "neither a database URL nor a JSON object"),
    ],
    ids=["truncated", "array", "no-host", "no-username-host", "port-text", "port-zero", "text"],
)
def test_a_malformed_database_secret_is_a_configuration_error_naming_the_variable(
    s3_server: str, monkeypatch: pytest.MonkeyPatch, secret: str, says: str
) -> None:
    """Through Secrets Manager (moto server): CONFIGURATION_ERROR, the variable and the fault
    named, the value never; not UNHANDLED_ERROR from json.loads or int()."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("secretsmanager", endpoint_url=s3_server, region_name="us-east-1")
    name = f"db-malformed-{abs(hash(secret))}"
    arn = client.create_secret(Name=name, SecretString=secret)["ARN"]
    with pytest.raises(ConfigurationError) as raised:
        resolve_secrets(Settings(database_secret_arn=arn), client)
    assert raised.value.code == "CONFIGURATION_ERROR"
    assert "DATABASE_SECRET_ARN" in raised.value.message and says in raised.value.message
    assert CANARY not in raised.value.message
    assert raised.value.__cause__ is None


def test_a_database_secret_without_port_or_name_is_a_url_without_them(
    s3_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("secretsmanager", endpoint_url=s3_server, region_name="us-east-1")
    arn = client.create_secret(
        Name="db-minimal",
        SecretString=json.dumps({"username": "app", "password": "pw", "host": "h"}),
    )["ARN"]
    settings = resolve_secrets(Settings(database_secret_arn=arn), client)
    assert settings.resolved_database_url == "postgresql+psycopg://app:pw@h"


def test_no_arn_no_aws_call() -> None:
    settings = Settings()
    assert resolve_secrets(settings, client=None) is settings


def test_secrets_are_reused_for_their_max_age_then_read_again(
    s3_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Powertools Parameters caches each value `SECRETS_MAX_AGE_SECONDS`: a rotation arrives."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("secretsmanager", endpoint_url=s3_server, region_name="us-east-1")
    arn = client.create_secret(Name="steam-key-rotating", SecretString="first-key-1234")["ARN"]

    def key(max_age: int) -> str:
        settings = Settings(steam_api_key_secret_arn=arn, secrets_max_age_seconds=max_age)
        return resolve_secrets(settings, client).require_steam_api_key().get_secret_value()

    assert key(0) == "first-key-1234"
    client.put_secret_value(SecretId=arn, SecretString="second-key-5678")
    assert key(0) == "second-key-5678"  # max_age 0: read every time, the rotation is seen

    assert key(300) == "second-key-5678"
    client.put_secret_value(SecretId=arn, SecretString="third-key-9012")
    assert key(300) == "second-key-5678"  # within max_age: served from the cache, no AWS call
