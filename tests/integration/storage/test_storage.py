"""Both storage backends (a local folder; S3 over HTTP on moto's server): round trips, keys,
and every location a stage must refuse."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import boto3
import pytest

from lambdas.clients.s3 import (
    LocalStorage,
    S3Storage,
    Storage,
    enriched_key_for,
    raw_key,
    run_stamp,
    storage_from_settings,
    validate_user_id,
)
from lambdas.config import Settings
from lambdas.errors import (
    ConfigurationError,
    ForbiddenLocationError,
    InvalidLocationError,
    InvalidUserIdError,
    LocationNotFoundError,
    PipelineError,
    StorageUnavailableError,
)

NOW = datetime(2026, 11, 27, 14, 30, 1, 123456, tzinfo=UTC)


def s3_client(endpoint: str):  # type: ignore[no-untyped-def]
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    if request.param == "local":
        yield LocalStorage(tmp_path / "data")
    else:
        endpoint = request.getfixturevalue("s3_server")
        bucket = request.getfixturevalue("s3_bucket")
        yield S3Storage(bucket, s3_client(endpoint))


def test_round_trip_and_listing(storage: Storage) -> None:
    key = raw_key("user-1", run_stamp(NOW, "0f1e2d3c4b5a"))
    payload = "appid,name\r\n1,Ünïcødé ™ 🎮\r\n".encode()
    location = storage.put(key, payload)
    assert storage.get(location, user_id="user-1") == payload
    assert storage.key_of(location, user_id="user-1") == key
    assert storage.list_keys("imports/user-1/") == [key]
    assert storage.list_keys("imports/other/") == []


def test_overwrite_replaces_whole_object(storage: Storage) -> None:
    key = raw_key("u", run_stamp(NOW, "a"))
    storage.put(key, b"first version, longer\r\n")
    location = storage.put(key, b"second\r\n")
    assert storage.get(location, user_id="u") == b"second\r\n"


def test_missing_object(storage: Storage) -> None:
    location = storage.put(raw_key("u", run_stamp(NOW, "a")), b"x\r\n")
    missing = location.replace("-raw.csv", "-gone-raw.csv")
    with pytest.raises(LocationNotFoundError):
        storage.get(missing, user_id="u")


def test_other_users_prefix_is_forbidden(storage: Storage) -> None:
    location = storage.put(raw_key("alice", run_stamp(NOW, "a")), b"x\r\n")
    with pytest.raises(ForbiddenLocationError, match="prefix"):
        storage.get(location, user_id="bob")
    with pytest.raises(ForbiddenLocationError):
        storage.get(location, user_id="alic")  # a prefix of another id is not enough


@pytest.mark.parametrize(
    ("suffix", "error"),
    [
        ("imports/u/../alice/x-raw.csv", ForbiddenLocationError),
        ("imports/u/./x-raw.csv", ForbiddenLocationError),
        ("imports/u//x-raw.csv", ForbiddenLocationError),
        ("imports/u/x-raw.txt", InvalidLocationError),
        ("imports/x-raw.csv", ForbiddenLocationError),
        ("other/u/x-raw.csv", ForbiddenLocationError),
        ("imports/u/x\\..\\y-raw.csv", InvalidLocationError),
    ],
)
def test_bad_keys(storage: Storage, suffix: str, error: type[PipelineError]) -> None:
    good = storage.put(raw_key("u", run_stamp(NOW, "a")), b"x\r\n")
    base = good[: good.index("imports/")]
    with pytest.raises(error):
        storage.get(base + suffix, user_id="u")


@pytest.mark.parametrize(
    "location",
    ["", "   ", "x" * 5000, "s3://", "imports/u/\x00-raw.csv", "ftp://host/imports/u/a-raw.csv"],
)
def test_malformed_locations(storage: Storage, location: str) -> None:
    with pytest.raises((InvalidLocationError, ForbiddenLocationError)):
        storage.get(location, user_id="u")


def test_local_refuses_paths_outside_its_folder(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "data")
    outside = tmp_path / "elsewhere" / "imports" / "u" / "a-raw.csv"
    outside.parent.mkdir(parents=True)
    outside.write_text("secret")
    for location in (
        str(outside),
        outside.as_uri(),
        "/etc/passwd",
        "file:///etc/passwd",
        "file://otherhost/imports/u/a-raw.csv",
        "s3://bucket/imports/u/a-raw.csv",
    ):
        with pytest.raises(ForbiddenLocationError):
            storage.get(location, user_id="u")


def test_local_refuses_symlink_escape(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "data")
    (tmp_path / "secret.csv").write_text("secret")
    link_dir = tmp_path / "data" / "imports" / "u"
    link_dir.mkdir(parents=True)
    (link_dir / "a-raw.csv").symlink_to(tmp_path / "secret.csv")
    with pytest.raises(ForbiddenLocationError):
        storage.get(str(link_dir / "a-raw.csv"), user_id="u")


def test_local_accepts_relative_and_file_uri(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    storage = LocalStorage(Path("data"))
    location = storage.put(raw_key("u", run_stamp(NOW, "a")), b"x\r\n")
    relative = "data/" + location.split("/data/", 1)[1]
    assert storage.get(relative, user_id="u") == b"x\r\n"
    assert storage.get(location, user_id="u") == b"x\r\n"


def test_local_accepts_the_key_its_errors_print(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pit 2: errors name `imports/u/…csv`, relative to the storage folder; passed back as
    --location from another folder it resolved against that folder: FORBIDDEN_LOCATION."""
    storage = LocalStorage(tmp_path / "data")
    key = raw_key("u", run_stamp(NOW, "a"))
    storage.put(key, b"x\r\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert storage.get(key, user_id="u") == b"x\r\n"
    with pytest.raises(LocationNotFoundError, match="nothing is stored"):
        storage.get(key.replace(".csv", "-gone.csv"), user_id="u")


def test_local_location_that_does_not_exist_is_not_found(tmp_path: Path) -> None:
    """Pit 2: a path that does not exist is LOCATION_NOT_FOUND, not FORBIDDEN_LOCATION; one
    that exists outside the storage folder stays forbidden (test above)."""
    storage = LocalStorage(tmp_path / "data")
    for location in ("/nonexistent/foo.csv", (tmp_path / "nowhere" / "imports" / "u" / "a.csv")):
        with pytest.raises(LocationNotFoundError):
            storage.get(str(location), user_id="u")


def test_local_write_is_atomic_and_leaves_no_temp_files(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.put(raw_key("u", run_stamp(NOW, "a")), b"x" * 100_000)
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [
        f"{run_stamp(NOW, 'a')}-raw.csv"
    ]


def test_local_folder_that_is_a_file_is_a_setting_to_fix_not_an_outage(tmp_path: Path) -> None:
    """A retry cannot help (issue 25): it is CONFIGURATION_ERROR, not STORAGE_UNAVAILABLE."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigurationError, match="DATA_DIR"):
        LocalStorage(blocker).put("imports/u/a-raw.csv", b"x")


def test_s3_other_bucket_is_forbidden(s3_server: str, s3_bucket: str) -> None:
    storage = S3Storage(s3_bucket, s3_client(s3_server))
    with pytest.raises(ForbiddenLocationError, match="bucket"):
        storage.get("s3://someone-elses-bucket/imports/u/a-raw.csv", user_id="u")
    with pytest.raises(ForbiddenLocationError):
        storage.get("/tmp/imports/u/a-raw.csv", user_id="u")
    with pytest.raises(InvalidLocationError):
        storage.get(f"s3://{s3_bucket}/imports/u/a-raw.csv?versionId=1", user_id="u")


def test_s3_missing_bucket_is_configuration_error(s3_server: str) -> None:
    storage = S3Storage("no-such-bucket-here", s3_client(s3_server))
    with pytest.raises(ConfigurationError, match="S3_BUCKET"):
        storage.put("imports/u/a-raw.csv", b"x")


def test_s3_unreachable_is_storage_unavailable() -> None:
    from botocore.config import Config

    client = boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(connect_timeout=0.5, retries={"max_attempts": 1}),
    )
    with pytest.raises(StorageUnavailableError):
        S3Storage("bucket", client).put("imports/u/a-raw.csv", b"x")


def test_storage_from_settings(s3_server: str, s3_bucket: str, tmp_path: Path) -> None:
    local = storage_from_settings(Settings(data_dir=tmp_path))
    assert isinstance(local, LocalStorage)
    remote = storage_from_settings(Settings(s3_bucket=s3_bucket, s3_endpoint_url=s3_server))
    assert isinstance(remote, S3Storage)
    location = remote.put("imports/u/a-raw.csv", b"x\r\n")
    assert location == f"s3://{s3_bucket}/imports/u/a-raw.csv"
    assert remote.get(location, user_id="u") == b"x\r\n"


def test_keys_are_sortable_and_unique() -> None:
    stamps = [run_stamp(NOW + timedelta(microseconds=i), f"id{i}") for i in range(3)]
    assert stamps == sorted(stamps)
    assert run_stamp(NOW, "aaaa") != run_stamp(NOW, "bbbb")
    assert run_stamp(NOW.astimezone(timezone(timedelta(hours=5))), "a") == run_stamp(NOW, "a")
    key = raw_key("u", stamps[0])
    assert key == "imports/u/20261127T143001123456Z-id0-raw.csv"
    assert enriched_key_for(key) == "imports/u/20261127T143001123456Z-id0-enriched.csv"


@pytest.mark.parametrize(
    "user_id", ["", "../x", "a/b", "a\x00b", "x" * 129, ".hidden", "-flag", "ü", "a b", "a..b"]
)
def test_invalid_user_ids(user_id: str) -> None:
    with pytest.raises(InvalidUserIdError):
        validate_user_id(user_id)


def test_valid_user_ids() -> None:
    for user_id in ("u1", "clx0abc123def456ghi789jkl", "User_2-b", "x" * 128):
        assert validate_user_id(user_id) == user_id


def test_a_signature_travels_beside_its_csv_on_both_backends(storage: Storage) -> None:
    from lambdas.clients.signing import CsvSigner, Verdict, read_verified, store_signed

    signer = CsvSigner(b"k" * 32)
    key = enriched_key_for(raw_key("user-1", run_stamp(NOW, "sig")))
    payload = b"appid,name\r\n1,A\r\n"
    location = store_signed(storage, key, payload, user_id="user-1", signer=signer)
    assert read_verified(storage, location, user_id="user-1", signer=signer) == (
        payload,
        Verdict.VERIFIED,
    )
    assert storage.list_keys("imports/user-1/") == [key]  # the signature is not a CSV
    storage.put(key, payload + b"2,B\r\n")  # replaced without a new signature
    assert read_verified(storage, location, user_id="user-1", signer=signer)[1] is Verdict.MISMATCH
    other = storage.put(enriched_key_for(raw_key("user-1", run_stamp(NOW, "bare"))), payload)
    assert storage.get_signature(other, user_id="user-1") is None
    with pytest.raises(ForbiddenLocationError):
        storage.get_signature(location, user_id="user-2")
    storage.put_signature(key, "v1:" + "0" * 300)  # a planted oversized one is read capped
    assert len(storage.get_signature(location, user_id="user-1") or "") == 256
