"""The enriched CSV's signature: the key's sources, its file, and what verifies."""

from __future__ import annotations

import threading
from pathlib import Path

import boto3
import pytest
from pydantic import SecretStr

from lambdas.clients.s3 import LocalStorage
from lambdas.clients.signing import (
    KEY_FILE_NAME,
    CsvSigner,
    Verdict,
    read_verified,
    signer_from_settings,
    store_signed,
)
from lambdas.config import Settings, environment_settings, resolve_secrets
from lambdas.errors import ConfigurationError

KEY = b"k" * 32
DATA = b"appid,name\r\n10,Half-Life\r\n"


def test_a_signature_verifies_only_the_same_bytes_for_the_same_user() -> None:
    signer = CsvSigner(KEY)
    signature = signer.sign("alice", DATA)
    assert signature.startswith("v1:") and len(signature) == 67
    assert signer.verify("alice", DATA, signature) is Verdict.VERIFIED
    assert signer.verify("alice", DATA, signature + "\n") is Verdict.VERIFIED
    assert signer.verify("alice", DATA + b"11,Evil\r\n", signature) is Verdict.MISMATCH
    assert signer.verify("mallory", DATA, signature) is Verdict.MISMATCH
    assert signer.verify("alice", DATA, None) is Verdict.UNSIGNED
    assert signer.verify("alice", DATA, "v1:" + "0" * 64) is Verdict.MISMATCH
    assert signer.verify("alice", DATA, "\udcff garbage") is Verdict.MISMATCH
    assert CsvSigner(b"x" * 32).verify("alice", DATA, signature) is Verdict.MISMATCH
    assert "k" * 8 not in repr(signer)


def test_a_short_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="shorter than 32"):
        CsvSigner(b"short")
    monkeypatch.setenv("ENRICHED_CSV_KEY", "short")
    with pytest.raises(ConfigurationError, match="ENRICHED_CSV_KEY") as raised:
        environment_settings()
    assert "short" not in raised.value.message.replace("shorter", "")


def test_the_key_setting_wins_over_the_key_file(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, enriched_csv_key=SecretStr("s" * 40))
    assert signer_from_settings(settings).sign("u", DATA) == CsvSigner(b"s" * 40).sign("u", DATA)
    assert not (tmp_path / KEY_FILE_NAME).exists()


def test_outside_lambda_a_private_key_file_is_made_once_and_kept(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = signer_from_settings(settings).sign("u", DATA)
    key = tmp_path / "data" / KEY_FILE_NAME
    assert key.stat().st_mode & 0o777 == 0o600
    assert len(key.read_text().strip()) == 64
    assert signer_from_settings(settings).sign("u", DATA) == first
    assert [p.name for p in key.parent.iterdir()] == [KEY_FILE_NAME]  # no temporary left


def test_processes_racing_to_make_the_key_all_get_the_same_one(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    signatures: list[str] = []

    def sign() -> None:
        signatures.append(signer_from_settings(settings).sign("u", DATA))

    threads = [threading.Thread(target=sign) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(signatures) == 8 and len(set(signatures)) == 1


@pytest.mark.parametrize("problem", ["readable-by-others", "symlink", "too-short", "folder"])
def test_an_unsafe_key_file_is_a_configuration_error(tmp_path: Path, problem: str) -> None:
    key = tmp_path / KEY_FILE_NAME
    if problem == "readable-by-others":
        key.write_text("a" * 64)
        key.chmod(0o644)
    elif problem == "symlink":
        target = tmp_path / "elsewhere"
        target.write_text("a" * 64)
        target.chmod(0o600)
        key.symlink_to(target)
    elif problem == "too-short":
        key.write_text("abc")
        key.chmod(0o600)
    else:
        key.mkdir()
    signer = signer_from_settings(Settings(data_dir=tmp_path))  # the key is read on first use
    with pytest.raises(ConfigurationError) as raised:
        signer.sign("u", DATA)
    assert "a" * 64 not in raised.value.message


def test_a_data_folder_that_cannot_hold_the_key_says_so(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    signer = signer_from_settings(Settings(data_dir=blocker / "data"))
    with pytest.raises(ConfigurationError, match="set ENRICHED_CSV_KEY"):
        signer.sign("u", DATA)


def test_in_lambda_the_key_must_be_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "enrich")
    with pytest.raises(ConfigurationError, match="ENRICHED_CSV_KEY_SECRET_ARN"):
        signer_from_settings(Settings(data_dir=tmp_path))
    assert not (tmp_path / KEY_FILE_NAME).exists()  # a per-container key would verify nothing
    assert signer_from_settings(Settings(enriched_csv_key=SecretStr("z" * 32))) is not None


def test_the_key_by_arn(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("secretsmanager", endpoint_url=s3_server, region_name="us-east-1")
    value = "CsvKeyCanary-" + "9" * 40
    arn = client.create_secret(Name="csv-key", SecretString=value + "\n")["ARN"]
    short = client.create_secret(Name="csv-key-short", SecretString="tiny")["ARN"]
    settings = resolve_secrets(Settings(enriched_csv_key_secret_arn=arn), client)
    assert settings.enriched_csv_key is not None
    assert settings.enriched_csv_key.get_secret_value() == value
    assert value in settings.secret_values()  # redacted from logs like every other secret
    with pytest.raises(ConfigurationError, match="fewer than 32") as raised:
        resolve_secrets(Settings(enriched_csv_key_secret_arn=short), client)
    assert "tiny" not in raised.value.message


def test_stored_signed_then_read_verified(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    signer = CsvSigner(KEY)
    key = "imports/alice/20260101T000000000000Z-a-enriched.csv"
    location = store_signed(storage, key, DATA, user_id="alice", signer=signer)
    assert read_verified(storage, location, user_id="alice", signer=signer) == (
        DATA,
        Verdict.VERIFIED,
    )
    assert storage.list_keys("imports/alice/") == [key]  # signatures are not listed as CSVs
    (tmp_path / key).write_bytes(DATA + b"11,Evil\r\n")
    assert read_verified(storage, location, user_id="alice", signer=signer)[1] is Verdict.MISMATCH
    (tmp_path / (key + ".sig")).unlink()
    assert read_verified(storage, location, user_id="alice", signer=signer)[1] is Verdict.UNSIGNED


def test_a_signature_that_is_a_symlink_is_not_read(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    signer = CsvSigner(KEY)
    key = "imports/alice/20260101T000000000000Z-a-enriched.csv"
    location = storage.put(key, DATA)
    elsewhere = tmp_path / "elsewhere.sig"
    elsewhere.write_text(signer.sign("alice", DATA))
    (tmp_path / (key + ".sig")).symlink_to(elsewhere)
    assert storage.get_signature(location, user_id="alice") is None
    (tmp_path / (key + ".sig")).unlink()
    (tmp_path / (key + ".sig")).mkdir()
    assert storage.get_signature(location, user_id="alice") is None


def test_the_key_file_is_made_only_when_a_file_is_signed_or_checked(tmp_path: Path) -> None:
    """A stage that refuses its input first leaves nothing in the data folder."""
    signer = signer_from_settings(Settings(data_dir=tmp_path))
    assert not (tmp_path / KEY_FILE_NAME).exists()
    assert signer.verify("u", DATA, None) is Verdict.UNSIGNED  # nothing to check a key against
    assert not (tmp_path / KEY_FILE_NAME).exists()
    signer.sign("u", DATA)
    assert (tmp_path / KEY_FILE_NAME).exists()
