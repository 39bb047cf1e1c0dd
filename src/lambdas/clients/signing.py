"""The enriched CSV's signature: how stage 3 tells a file stage 2 made from one made by hand.

Stage 2 signs every enriched CSV it stores with an HMAC-SHA256 key only the pipeline holds; the
signature travels beside the CSV (`<key>.sig`, written before the CSV). Stage 3, and stage 2
when it reuses an earlier file as its checkpoint, believe a file's IGDB facts only when its
signature verifies. The MAC covers the user id and every byte of the file, so neither an edited
file nor another user's file verifies.

The key: `ENRICHED_CSV_KEY` (in Lambda from `ENRICHED_CSV_KEY_SECRET_ARN`, resolved with the
other secrets in `config`), else, outside Lambda, a key generated once into
`<DATA_DIR>/enriched-csv.key` (mode 0600). Its value never leaves this module but as a MAC.
"""

from __future__ import annotations

import enum
import errno
import hashlib
import hmac
import os
import secrets
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from lambdas.errors import ConfigurationError
from lambdas.logging import register_secrets

if TYPE_CHECKING:
    from lambdas.clients.s3 import Storage
    from lambdas.config import Settings

log = structlog.get_logger()

KEY_FILE_NAME = "enriched-csv.key"
#: Shortest key accepted, in characters (a generated key has 64 hex digits: 256 bits).
MIN_KEY_LENGTH = 32
_VERSION = "v1"
_DOMAIN = b"steam-library-import enriched CSV v1\x00"


class Verdict(enum.StrEnum):
    """What a stored CSV's signature says."""

    VERIFIED = "verified"
    UNSIGNED = "unsigned"  # no signature beside the file
    MISMATCH = "mismatch"  # a signature, but not this key's for this user and these bytes


class CsvSigner:
    """Signs and verifies stored CSVs with one key (which `repr` never shows).

    The key may be given, or loaded on first use: a stage that refuses its input before it
    signs or checks anything leaves no key file behind.
    """

    __slots__ = ("_key", "_load")

    def __init__(
        self, key: bytes | None = None, *, load: Callable[[], bytes] | None = None
    ) -> None:
        if key is None and load is None:
            raise ValueError("a CsvSigner needs a key or a way to load one")
        self._key = _checked_key(key) if key is not None else None
        self._load = load

    def __repr__(self) -> str:
        return "CsvSigner(key=***)"

    def _secret(self) -> bytes:
        if self._key is None and self._load is not None:
            self._key = _checked_key(self._load())
        if self._key is None:  # pragma: no cover - __init__ holds a key or a loader
            raise ConfigurationError("the enriched CSV key is missing")
        return self._key

    def sign(self, user_id: str, data: bytes) -> str:
        """The signature of `data` stored for `user_id`: `v1:` and 64 hex digits."""
        mac = hmac.new(self._secret(), _DOMAIN, hashlib.sha256)
        mac.update(user_id.encode("utf-8") + b"\x00")
        mac.update(data)
        return f"{_VERSION}:{mac.hexdigest()}"

    def verify(self, user_id: str, data: bytes, signature: str | None) -> Verdict:
        if signature is None:
            return Verdict.UNSIGNED
        expected = self.sign(user_id, data)
        given = signature.strip().encode("utf-8", "replace")
        if hmac.compare_digest(expected.encode("ascii"), given):
            return Verdict.VERIFIED
        return Verdict.MISMATCH


def signer_from_settings(settings: Settings) -> CsvSigner:
    """The pipeline's signer: ENRICHED_CSV_KEY, else the data folder's key file (created on
    first use); in Lambda the key must come from the setting (ENRICHED_CSV_KEY_SECRET_ARN), as
    a key generated per container would verify nothing another container signed."""
    if settings.enriched_csv_key is not None:
        return CsvSigner(settings.enriched_csv_key.get_secret_value().encode("utf-8"))
    if "AWS_LAMBDA_FUNCTION_NAME" in os.environ:
        raise ConfigurationError(
            "ENRICHED_CSV_KEY_SECRET_ARN (or ENRICHED_CSV_KEY) is not set: stages 2 and 3 "
            "need the same enriched CSV key"
        )
    path = settings.data_dir / KEY_FILE_NAME

    def load() -> bytes:
        key = _key_file(path)
        register_secrets([key.decode("ascii", "replace")])  # redacted wherever it might show up
        return key

    return CsvSigner(load=load)


def _checked_key(key: bytes) -> bytes:
    if len(key) < MIN_KEY_LENGTH:
        raise ConfigurationError(
            f"the enriched CSV key is shorter than {MIN_KEY_LENGTH} characters"
        )
    return key


def _key_file(path: Path) -> bytes:
    """The key in `path`, generated there first when missing (0600, never replaced)."""
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _create_key(path)
        log.info("signing.key_created", path=str(path))
    except FileExistsError:  # another process created it first: use theirs
        pass
    except OSError as exc:
        raise ConfigurationError(
            f"cannot create the enriched CSV key {path} ({exc.strerror}); "
            "set ENRICHED_CSV_KEY or make DATA_DIR writable"
        ) from None
    try:
        return _read_key(path)
    except FileNotFoundError:
        raise ConfigurationError(f"the enriched CSV key {path} vanished") from None


def _create_key(path: Path) -> None:
    """Write a new key to a private temporary file, then link it into place: a reader never
    sees a partly written key, and an existing key is never replaced (FileExistsError)."""
    fd, tmp = _private_temp(path.parent)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.link(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _private_temp(folder: Path) -> tuple[int, str]:
    fd, name = tempfile.mkstemp(dir=folder, prefix=".tmp-key-")  # mkstemp: 0600 already
    os.fchmod(fd, 0o600)
    return fd, name


def _read_key(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise  # the caller creates it
    except OSError as exc:
        reason = "a symlink is refused" if exc.errno == errno.ELOOP else exc.strerror
        raise ConfigurationError(
            f"cannot read the enriched CSV key {path} ({reason}); "
            "set ENRICHED_CSV_KEY or fix DATA_DIR"
        ) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ConfigurationError(f"the enriched CSV key {path} is not a regular file")
        if info.st_mode & 0o077:
            raise ConfigurationError(
                f"the enriched CSV key {path} is readable or writable by others; chmod 600 it"
            )
        key = os.read(fd, 4096).strip()
    finally:
        os.close(fd)
    if len(key) < MIN_KEY_LENGTH:
        raise ConfigurationError(
            f"the enriched CSV key {path} holds fewer than {MIN_KEY_LENGTH} characters"
        )
    return key


def store_signed(
    storage: Storage, key: str, data: bytes, *, user_id: str, signer: CsvSigner
) -> str:
    """Store `data` at `key` with its signature beside it; the CSV's location.

    The signature goes first: a failure between the two writes leaves a signature that verifies
    nothing else, never an unsigned CSV that a resumed stage 3 would half-trust."""
    storage.put_signature(key, signer.sign(user_id, data))
    return storage.put(key, data)


def read_verified(
    storage: Storage, location: str, *, user_id: str, signer: CsvSigner
) -> tuple[bytes, Verdict]:
    """A stored CSV's bytes and what its signature says about them."""
    data = storage.get(location, user_id=user_id)
    return data, signer.verify(user_id, data, storage.get_signature(location, user_id=user_id))
