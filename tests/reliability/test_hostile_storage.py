"""Unlucky things at a stored location: a named pipe, a folder, a file far larger than any stage
writes. Each ends at once in a permanent, typed error, before the content is read."""

from __future__ import annotations

import concurrent.futures
import os
import time
import tracemalloc
from pathlib import Path

import boto3
import pytest
from tests.reliability.support import USER, Figures, Harness, outcome

from lambdas.clients.s3 import LocalStorage, S3Storage
from lambdas.errors import ConfigurationError, MalformedCsvError
from lambdas.pipeline import PipelineResult, Stage
from lambdas.stages import StageContext

STAGES = [Stage.ENRICH, Stage.LOAD]


def _path(harness: Harness, stage: Stage, tag: str) -> Path:
    suffix = "raw" if stage is Stage.ENRICH else "enriched"
    path = (
        harness.settings.data_dir / "imports" / USER / f"20260101T000000000000Z-{tag}-{suffix}.csv"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _run(harness: Harness, stage: Stage, path: Path, **context: object) -> PipelineResult:
    field = "s3_location" if stage is Stage.ENRICH else "s3_enriched_location"
    return harness.run(
        from_stage=stage,
        event={"user_id": USER, field: path.as_uri()},
        context=StageContext(
            settings=harness.settings,
            storage=context.get("storage", harness.storage),  # type: ignore[arg-type]
            engine=harness.engine,
        ),
    )


@pytest.mark.parametrize("stage", STAGES, ids=lambda stage: stage.value)
def test_named_pipe_is_refused_at_once(
    stage: Stage, harness: Harness, reliability: Figures
) -> None:
    """A FIFO blocked the reader forever (no writer ever comes); now it is not a regular file."""
    fifo = _path(harness, stage, "fifo")
    os.mkfifo(fifo)
    before = harness.snapshot()
    with reliability.hostile_input(f"storage at {stage.value}: named pipe"):
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        try:
            started = time.perf_counter()
            result = pool.submit(_run, harness, stage, fifo).result(timeout=20)
            assert time.perf_counter() - started < 10
        finally:
            _release_blocked_reader(fifo)
            pool.shutdown(wait=True)
        assert outcome(result) == "INVALID_LOCATION", result.as_dict()
        assert "not a regular file" in (result.failed.response.error or "")  # type: ignore[union-attr]
        assert harness.snapshot() == before


def _release_blocked_reader(fifo: Path) -> None:
    """Open the write end once, so a reader stuck in open() (the old behaviour) gets EOF and the
    test can end even when it fails."""
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        return  # no reader is waiting
    os.close(fd)


@pytest.mark.parametrize("stage", STAGES, ids=lambda stage: stage.value)
def test_folder_is_a_permanent_error(stage: Stage, harness: Harness, reliability: Figures) -> None:
    """A folder named like a CSV was STORAGE_UNAVAILABLE (exit 75, retried in vain)."""
    folder = _path(harness, stage, "folder")
    folder.mkdir()
    before = harness.snapshot()
    with reliability.hostile_input(f"storage at {stage.value}: folder"):
        result = _run(harness, stage, folder)
        assert outcome(result) == "INVALID_LOCATION", result.as_dict()
        assert result.failed is not None and not result.failed.transient
        assert "is a folder" in (result.failed.response.error or "")
        assert harness.snapshot() == before


@pytest.mark.parametrize("stage", STAGES, ids=lambda stage: stage.value)
def test_huge_file_is_refused_before_reading(
    stage: Stage, harness: Harness, reliability: Figures
) -> None:
    """A 300 MB file was read whole (349 MB RSS) before being refused; now its size is checked
    first. The file is sparse, so the test costs no disk; tracemalloc shows nothing was read."""
    huge = _path(harness, stage, "huge")
    with huge.open("wb") as handle:
        handle.truncate(300 * 1024 * 1024)
    before = harness.snapshot()
    with reliability.hostile_input(f"storage at {stage.value}: 300 MB file"):
        tracemalloc.start()
        try:
            result = _run(harness, stage, huge)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert outcome(result) == "MALFORMED_CSV", result.as_dict()
        assert "MAX_CSV_BYTES" in (result.failed.response.error or "")  # type: ignore[union-attr]
        assert peak < 20 * 1024 * 1024, peak
        assert harness.snapshot() == before


def test_size_cap_is_the_setting(harness: Harness, reliability: Figures) -> None:
    """The cap is MAX_CSV_BYTES: a file one byte over it is refused, one at it is read."""
    path = _path(harness, Stage.LOAD, "capped")
    storage = LocalStorage(harness.settings.data_dir, max_bytes=4096)
    with reliability.hostile_input("storage: one byte over MAX_CSV_BYTES"):
        path.write_bytes(b"x" * 4097)
        with pytest.raises(MalformedCsvError, match="4097 bytes, more than MAX_CSV_BYTES"):
            storage.get(path.as_uri(), user_id=USER)
        path.write_bytes(b"x" * 4096)
        assert len(storage.get(path.as_uri(), user_id=USER)) == 4096


def test_s3_object_over_the_cap_is_refused(
    s3_server: str, s3_bucket: str, reliability: Figures
) -> None:
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    storage = S3Storage(s3_bucket, client, max_bytes=1024 * 1024)
    key = f"imports/{USER}/20260101T000000000000Z-big-enriched.csv"
    client.put_object(Bucket=s3_bucket, Key=key, Body=b"y" * (2 * 1024 * 1024))
    with (
        reliability.hostile_input("storage: S3 object over MAX_CSV_BYTES"),
        pytest.raises(MalformedCsvError, match="MAX_CSV_BYTES"),
    ):
        storage.get(f"s3://{s3_bucket}/{key}", user_id=USER)


@pytest.mark.parametrize("where", ["the folder", "a folder above it"])
def test_data_dir_that_is_a_file_is_a_configuration_error(
    where: str, harness: Harness, reliability: Figures, tmp_path: Path
) -> None:
    """DATA_DIR=/etc/hostname was STORAGE_UNAVAILABLE (75, "retry"); no retry turns a file into
    a folder: CONFIGURATION_ERROR (78), permanent, naming DATA_DIR."""
    a_file = tmp_path / "hostname"
    a_file.write_text("not a folder\n")
    data_dir = a_file if where == "the folder" else a_file / "data"
    storage = LocalStorage(data_dir)
    with reliability.hostile_input(f"storage: DATA_DIR is {where} a file"):
        before = harness.snapshot()
        result = harness.run(
            context=StageContext(settings=harness.settings, storage=storage, engine=harness.engine)
        )
        assert outcome(result) == "CONFIGURATION_ERROR", result.as_dict()
        assert result.failed is not None and not result.failed.transient
        assert "DATA_DIR" in str(result.failed.response.error)
        assert harness.snapshot() == before
    with pytest.raises(ConfigurationError, match="DATA_DIR"):
        storage.get(f"{data_dir.as_uri()}/imports/{USER}/x.csv", user_id=USER)


def test_sqlite_under_a_file_is_a_configuration_error(tmp_path: Path) -> None:
    """The default SQLite database under DATA_DIR: a traceback (FileExistsError) before."""
    from lambdas.sql.engine import create_engine

    a_file = tmp_path / "hostname"
    a_file.write_text("not a folder\n")
    with pytest.raises(ConfigurationError, match="DATA_DIR"):
        create_engine(f"sqlite:///{a_file}/steam-import.db")
