"""Database URL normalization."""

from __future__ import annotations

import pytest

from lambdas.errors import ConfigurationError
from lambdas.sql.engine import normalize_url


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql://u:p@db:5432/app", "postgresql+psycopg"),
        ("postgres://u:p@db/app", "postgresql+psycopg"),
        ("postgresql+psycopg://u@db/app", "postgresql+psycopg"),
        ("sqlite:////tmp/x.db", "sqlite"),
        ("sqlite://", "sqlite"),
    ],
    ids=["postgresql", "postgres-alias", "already-psycopg", "sqlite-file", "sqlite-memory"],
)
def test_urls_use_psycopg_3(url: str, driver: str) -> None:
    assert normalize_url(url).drivername == driver


@pytest.mark.parametrize("url", ["mysql://u@db/app", "not a url"], ids=["mysql", "garbage"])
def test_other_urls_are_configuration_errors(url: str) -> None:
    with pytest.raises(ConfigurationError):
        normalize_url(url)


def test_the_password_never_appears_in_the_error() -> None:
    with pytest.raises(ConfigurationError) as caught:
        normalize_url("mysql://user:s3cr3t-pass@db/app")
    assert "s3cr3t-pass" not in str(caught.value)


MALFORMED = {
    "port-not-a-number": "postgresql://u:s3cr3t-pass@127.0.0.1:notaport/db",
    "unclosed-ipv6-bracket": "postgresql://u:s3cr3t-pass@[::1/db",
    "unknown-driver": "postgresql+foo://u:s3cr3t-pass@127.0.0.1/db",
    "port-99999": "postgresql://u:s3cr3t-pass@127.0.0.1:99999/db",
    "port-0": "postgresql://u:s3cr3t-pass@127.0.0.1:0/db",
    "sqlite-unknown-driver": "sqlite+foo:////tmp/x.db",
}


@pytest.mark.parametrize("url", MALFORMED.values(), ids=MALFORMED)
def test_malformed_urls_are_configuration_errors_naming_the_variable(url: str) -> None:
    """These crashed with a traceback (port, bracket, driver) or became DATABASE_UNAVAILABLE,
    retryable (port 99999): each is a setting to fix, named, without its password."""
    with pytest.raises(ConfigurationError) as caught:
        normalize_url(url)
    assert "DATABASE_URL" in str(caught.value)
    assert "s3cr3t" not in str(caught.value)
    error = caught.value  # the parser's text quotes the URL: never chained
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
