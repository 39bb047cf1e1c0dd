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
