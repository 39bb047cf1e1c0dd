"""Object storage for the CSVs between stages: S3 (any S3-compatible endpoint) or a local folder.

Locations are URIs: `s3://bucket/key` or `file:///abs/path` (a bare local path is accepted too).
Reads accept only locations inside the configured bucket or folder and under the event user's
`imports/{user_id}/` prefix; anything else is FORBIDDEN_LOCATION.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import unquote, urlparse

import structlog

from lambdas.errors import (
    ConfigurationError,
    ForbiddenLocationError,
    InvalidLocationError,
    InvalidUserIdError,
    LocationNotFoundError,
    MalformedCsvError,
    StorageUnavailableError,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from lambdas.config import Settings
    from lambdas.models.events import LibraryState

log = structlog.get_logger()

_USER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
_MAX_LOCATION_LENGTH = 2048
IMPORTS_PREFIX = "imports"
#: Default cap on a stored CSV (the MAX_CSV_BYTES setting), checked before reading.
DEFAULT_MAX_CSV_BYTES = 64 * 1024 * 1024
#: A CSV's signature is stored beside it under this suffix (`lambdas.clients.signing`).
SIGNATURE_SUFFIX = ".sig"
#: Longest signature read; a real one has 67 characters.
_MAX_SIGNATURE_BYTES = 256


def _too_large(key: str, size: int, limit: int) -> MalformedCsvError:
    return MalformedCsvError(
        f"{key} holds {size} bytes, more than MAX_CSV_BYTES ({limit}) allows; "
        "no stage writes a CSV that large"
    )


def validate_user_id(user_id: str) -> str:
    """A user id safe to use in a storage key: ASCII letters, digits, `_` and `-`, at most 128."""
    if not isinstance(user_id, str) or not _USER_ID.fullmatch(user_id):
        shown = repr(user_id[:40]) if isinstance(user_id, str) else type(user_id).__name__
        raise InvalidUserIdError(
            f"user id {shown} is invalid: use 1-128 ASCII letters (a-z, A-Z), digits, '_' or '-', "
            "starting with a letter or digit"
        )
    return user_id


def user_prefix(user_id: str) -> str:
    return f"{IMPORTS_PREFIX}/{validate_user_id(user_id)}/"


def run_stamp(now: datetime, import_id: str) -> str:
    """Sortable UTC timestamp, unique per run thanks to the import id's first characters."""
    moment = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    suffix = re.sub(r"[^a-z0-9]", "", import_id.lower())[:8] or "run"
    return f"{moment:%Y%m%dT%H%M%S%f}Z-{suffix}"


def raw_key(user_id: str, stamp: str) -> str:
    return f"{user_prefix(user_id)}{stamp}-raw.csv"


#: Where stage 1 keeps its response per import id, under the user's prefix.
RECEIPTS_FOLDER = "receipts"


def receipt_key(user_id: str, import_id: str) -> str:
    """The key of stage 1's stored response for this import id.

    Hashed, so any import id makes a safe key, and the same id always finds the same key.
    """
    digest = hashlib.sha256(import_id.encode()).hexdigest()[:32]
    return f"{user_prefix(user_id)}{RECEIPTS_FOLDER}/{digest}.json"


def enriched_key_for(raw: str) -> str:
    """The enriched CSV's key beside the raw one it was made from."""
    if raw.endswith("-raw.csv"):
        return raw[: -len("-raw.csv")] + "-enriched.csv"
    return raw.removesuffix(".csv") + "-enriched.csv"


def wishlist_key_for(key: str) -> str | None:
    """The wishlist sibling of a stage's CSV (`…-raw.csv` → `…-raw-wishlist.csv`, `…-enriched.csv`
    → `…-enriched-wishlist.csv`); None for a CSV of another name, which has no sibling."""
    for suffix in ("-raw.csv", "-enriched.csv"):
        if key.endswith(suffix):
            return key.removesuffix(".csv") + "-wishlist.csv"
    return None


def get_wishlist_beside(storage: Storage, key: str, *, user_id: str) -> bytes | None:
    """The wishlist CSV stored beside the CSV at `key`; None when there is none."""
    sibling = wishlist_key_for(key)
    if sibling is None:
        return None
    try:
        return storage.get(storage.location_of(sibling), user_id=user_id)
    except LocationNotFoundError:
        return None


#: The user's committed import state (models.library_state), beside the user's CSVs.
STATE_NAME = "state.json"


def state_key(user_id: str) -> str:
    return f"{user_prefix(user_id)}{STATE_NAME}"


def _checked_key(key: str, user_id: str) -> str:
    """Reject keys with `..`, empty or odd segments, or outside the user's prefix."""
    if "\x00" in key or "\\" in key:
        raise InvalidLocationError("the location contains NUL or backslash characters")
    parts = key.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise ForbiddenLocationError("the location has empty, '.' or '..' path segments")
    if not key.startswith(user_prefix(user_id)) or len(parts) < 3:
        raise ForbiddenLocationError(
            f"the location is not under this user's prefix {user_prefix(user_id)!r}"
        )
    if key.endswith(".csv") or _is_receipt(parts) or key == state_key(user_id):
        return key
    raise InvalidLocationError("the location does not name a .csv file")


def _is_receipt(parts: list[str]) -> bool:
    """`imports/{user}/receipts/{name}.json`: the one other kind of object stages read."""
    return len(parts) == 4 and parts[2] == RECEIPTS_FOLDER and parts[3].endswith(".json")


class Storage(Protocol):
    """What the stages need from storage."""

    def put(self, key: str, data: bytes) -> str:
        """Store `data` at `key`; return its location URI."""
        ...

    def get(self, location: str, *, user_id: str) -> bytes:
        """Read a location after checking it belongs to this storage and user."""
        ...

    def key_of(self, location: str, *, user_id: str) -> str:
        """The checked key a location names."""
        ...

    def list_keys(self, prefix: str) -> list[str]:
        """Keys under a prefix, sorted."""
        ...

    def location_of(self, key: str) -> str:
        """The location URI of a key."""
        ...

    def put_signature(self, key: str, signature: str) -> None:
        """Store the signature of the CSV at `key` beside it."""
        ...

    def get_signature(self, location: str, *, user_id: str) -> str | None:
        """The signature stored beside a checked location; None when there is none."""
        ...


def _check_location_text(location: str) -> None:
    if not isinstance(location, str) or not location.strip():
        raise InvalidLocationError("the location is empty")
    if len(location) > _MAX_LOCATION_LENGTH:
        raise InvalidLocationError(f"the location is {len(location)} characters long")
    if "\x00" in location:
        raise InvalidLocationError("the location contains a NUL character")


def _check_segments(path: str) -> None:
    """Refuse `..`, `.` and empty segments before any normalisation can hide them."""
    segments = path.split("/")[1:] if path.startswith("/") else path.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        raise ForbiddenLocationError("the location has empty, '.' or '..' path segments")


def _raise_if_not_a_folder(root: Path) -> None:
    """DATA_DIR (or a folder above it) is a file: a setting to fix, not a storage outage."""
    for path in (root, *root.parents):
        if path.exists():
            if not path.is_dir():
                raise ConfigurationError(
                    f"DATA_DIR {root} is not a folder ({path} is a file); point it at a folder"
                )
            return


class LocalStorage:
    """A folder on disk; writes are atomic (temporary file, fsync, rename)."""

    def __init__(self, root: Path, *, max_bytes: int = DEFAULT_MAX_CSV_BYTES) -> None:
        self.root = root.resolve()
        self.max_bytes = max_bytes

    def put(self, key: str, data: bytes) -> str:
        path = self.root / key
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            _raise_if_not_a_folder(self.root)
            raise StorageUnavailableError(
                f"cannot write {key} under {self.root}: {exc.strerror}"
            ) from exc
        log.debug("storage.put", key=key, bytes=len(data))
        return path.as_uri()

    def location_of(self, key: str) -> str:
        return (self.root / key).as_uri()

    def put_signature(self, key: str, signature: str) -> None:
        self.put(key + SIGNATURE_SUFFIX, signature.encode("ascii"))

    def get_signature(self, location: str, *, user_id: str) -> str | None:
        key = self.key_of(location, user_id=user_id) + SIGNATURE_SUFFIX
        flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(self.root / key, flags | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            return None
        except OSError:  # a symlink, a folder, no permission: no signature to believe
            log.warning("storage.signature_unreadable", key=key)
            return None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            data = os.read(fd, _MAX_SIGNATURE_BYTES)
        finally:
            os.close(fd)
        return data.decode("ascii", "replace")

    def key_of(self, location: str, *, user_id: str) -> str:
        _check_location_text(location)
        parsed = urlparse(location)
        if parsed.scheme == "file":
            if parsed.netloc not in ("", "localhost"):
                raise ForbiddenLocationError("file locations on other hosts are not allowed")
            raw_path = unquote(parsed.path)
        elif parsed.scheme == "":
            raw_path = location
        else:
            raise ForbiddenLocationError(
                f"storage is a local folder here; {parsed.scheme}:// locations are not allowed"
            )
        _check_segments(raw_path)
        path = Path(raw_path)
        if not path.is_absolute():
            # From the current folder, else a key of the storage folder as errors print them
            # (`imports/<user>/…csv`), so what the tool prints can be passed back.
            path = Path.cwd() / path
            if not path.resolve().is_relative_to(self.root):
                path = self.root / raw_path
        resolved = path.resolve()
        if not resolved.is_relative_to(self.root):
            if not resolved.exists():
                raise LocationNotFoundError(f"nothing is stored at {location}")
            raise ForbiddenLocationError(f"the location is outside the storage folder {self.root}")
        return _checked_key(resolved.relative_to(self.root).as_posix(), user_id)

    def get(self, location: str, *, user_id: str) -> bytes:
        key = self.key_of(location, user_id=user_id)
        try:
            # Non-blocking open: a named pipe would otherwise block until a writer appears. The
            # file is then checked through its descriptor, so it cannot be swapped in between.
            fd = os.open(self.root / key, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError as exc:
            raise LocationNotFoundError(f"nothing is stored at {key}") from exc
        except OSError as exc:
            _raise_if_not_a_folder(self.root)
            raise StorageUnavailableError(f"cannot read {key}: {exc.strerror}") from exc
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
                raise InvalidLocationError(f"{key} is {kind}, not a stored CSV")
            if info.st_size > self.max_bytes:
                raise _too_large(key, info.st_size, self.max_bytes)
            with os.fdopen(fd, "rb", closefd=False) as handle:
                data = handle.read(self.max_bytes + 1)  # the file may have grown since fstat
        except OSError as exc:
            raise StorageUnavailableError(f"cannot read {key}: {exc.strerror}") from exc
        finally:
            os.close(fd)
        if len(data) > self.max_bytes:
            raise _too_large(key, len(data), self.max_bytes)
        return data

    def list_keys(self, prefix: str) -> list[str]:
        base = self.root / prefix
        if not base.is_dir():
            return []
        return sorted(
            path.relative_to(self.root).as_posix()
            for path in base.rglob("*.csv")
            if path.is_file() and not path.name.startswith(".tmp-")
        )


class S3Storage:
    """An S3 bucket through boto3 (endpoint configurable for S3-compatible servers)."""

    def __init__(
        self, bucket: str, client: S3Client, *, max_bytes: int = DEFAULT_MAX_CSV_BYTES
    ) -> None:
        self.bucket = bucket
        self._client = client
        self.max_bytes = max_bytes

    def put(self, key: str, data: bytes) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentType=_content_type(key)
            )
        except ClientError as exc:
            raise _translate_client_error(exc, self.bucket, key) from exc
        except BotoCoreError as exc:
            raise _translate_boto_error(exc, f"cannot write s3://{self.bucket}/{key}") from exc
        log.debug("storage.put", key=key, bytes=len(data))
        return self.location_of(key)

    def location_of(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def put_signature(self, key: str, signature: str) -> None:
        self.put(key + SIGNATURE_SUFFIX, signature.encode("ascii"))

    def get_signature(self, location: str, *, user_id: str) -> str | None:
        from botocore.exceptions import BotoCoreError, ClientError

        key = self.key_of(location, user_id=user_id) + SIGNATURE_SUFFIX
        try:
            answer = self._client.get_object(Bucket=self.bucket, Key=key)
            body = answer["Body"]
            try:
                data = body.read(_MAX_SIGNATURE_BYTES)
            finally:
                body.close()
        except ClientError as exc:
            error = _translate_client_error(exc, self.bucket, key)
            if isinstance(error, LocationNotFoundError):
                return None
            raise error from exc
        except BotoCoreError as exc:
            raise _translate_boto_error(exc, f"cannot read s3://{self.bucket}/{key}") from exc
        return data.decode("ascii", "replace")

    def key_of(self, location: str, *, user_id: str) -> str:
        _check_location_text(location)
        parsed = urlparse(location)
        if parsed.scheme != "s3":
            raise ForbiddenLocationError(
                f"storage is s3://{self.bucket} here; other locations are not allowed"
            )
        if parsed.netloc != self.bucket:
            raise ForbiddenLocationError(f"the location is not in the bucket {self.bucket!r}")
        if parsed.query or parsed.fragment or parsed.params:
            raise InvalidLocationError("S3 locations cannot carry a query or fragment")
        return _checked_key(parsed.path.removeprefix("/"), user_id)

    def get(self, location: str, *, user_id: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        key = self.key_of(location, user_id=user_id)
        try:
            answer = self._client.get_object(Bucket=self.bucket, Key=key)
            body = answer["Body"]
            try:
                size = int(answer.get("ContentLength", 0) or 0)
                if size > self.max_bytes:
                    raise _too_large(f"s3://{self.bucket}/{key}", size, self.max_bytes)
                data = body.read(self.max_bytes + 1)
            finally:
                body.close()
        except ClientError as exc:
            raise _translate_client_error(exc, self.bucket, key) from exc
        except BotoCoreError as exc:
            raise _translate_boto_error(exc, f"cannot read s3://{self.bucket}/{key}") from exc
        if len(data) > self.max_bytes:
            raise _too_large(f"s3://{self.bucket}/{key}", len(data), self.max_bytes)
        return data

    def list_keys(self, prefix: str) -> list[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        keys: list[str] = []
        try:
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                keys.extend(  # CSVs only, as in a local folder (not their signatures)
                    item["Key"]
                    for item in page.get("Contents", [])
                    if item.get("Key", "").endswith(".csv")
                )
        except ClientError as exc:
            raise _translate_client_error(exc, self.bucket, prefix) from exc
        except BotoCoreError as exc:
            raise _translate_boto_error(exc, f"cannot list s3://{self.bucket}/{prefix}") from exc
        return sorted(keys)


def _content_type(key: str) -> str:
    return "application/json" if key.endswith(".json") else "text/csv; charset=utf-8"


def _translate_boto_error(exc: Exception, what: str) -> Exception:
    from botocore.exceptions import NoCredentialsError, PartialCredentialsError

    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return ConfigurationError(f"{what}: no AWS credentials are configured")
    return StorageUnavailableError(f"{what}: {type(exc).__name__}")


def _translate_client_error(exc: Exception, bucket: str, key: str) -> Exception:
    response = getattr(exc, "response", {}) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if code in ("NoSuchKey", "404", "NotFound"):
        return LocationNotFoundError(f"nothing is stored at s3://{bucket}/{key}")
    if code == "NoSuchBucket":
        return ConfigurationError(f"the bucket {bucket!r} does not exist; check S3_BUCKET")
    if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
        return ConfigurationError(f"access to s3://{bucket} was denied ({code})")
    if status >= 500 or code in (
        "SlowDown",
        "ServiceUnavailable",
        "InternalError",
        "RequestTimeout",
    ):
        return StorageUnavailableError(f"S3 failed for s3://{bucket}/{key} ({code or status})")
    return StorageUnavailableError(f"S3 refused s3://{bucket}/{key} ({code or status})")


def storage_from_settings(settings: Settings, *, s3_client: S3Client | None = None) -> Storage:
    """S3 when S3_BUCKET is set, else the local data folder."""
    if not settings.s3_bucket:
        return LocalStorage(settings.data_dir, max_bytes=settings.max_csv_bytes)
    if s3_client is None:
        import boto3
        from botocore.config import Config

        s3_client = boto3.client(
            "s3",
            region_name=settings.aws_region,
            endpoint_url=settings.s3_endpoint_url,
            config=Config(
                connect_timeout=settings.http_connect_timeout,
                read_timeout=settings.http_read_timeout,
                retries={"mode": "standard", "max_attempts": 3},
            ),
        )
    return S3Storage(settings.s3_bucket, s3_client, max_bytes=settings.max_csv_bytes)


def utc_now() -> datetime:
    return datetime.now(UTC)


def read_library_state(storage: Storage, user_id: str) -> LibraryState | None:
    """The user's committed import state; None when there is none or it cannot be used (then
    the import does the full work, which is always safe). Storage outages are raised."""
    from pydantic import ValidationError

    from lambdas.models.events import LibraryState

    try:
        data = storage.get(storage.location_of(state_key(user_id)), user_id=user_id)
    except LocationNotFoundError:
        return None
    except MalformedCsvError as exc:  # larger than any state: not ours
        log.warning("storage.state_unusable", user_id=user_id, error=exc.message)
        return None
    if data.strip() in (b"", b"{}"):  # forgotten (`forget_library_state`)
        return None
    try:
        state = LibraryState.model_validate_json(data)
    except ValidationError:
        log.warning("storage.state_unusable", user_id=user_id, error="not a library state")
        return None
    return state if state.user_id == user_id else None


def write_library_state(storage: Storage, state: LibraryState) -> str:
    """Store the user's committed import state (call only after the import committed)."""
    return storage.put(state_key(state.user_id), state.model_dump_json().encode())


def forget_library_state(storage: Storage, user_id: str) -> None:
    """Make the user's next import do the full work: something changed that the state does not
    see (a `keep` changes how stage 2 decides an app). Storage has no delete: an empty object."""
    storage.put(state_key(user_id), b"{}")
