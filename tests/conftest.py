"""Fixtures every test may use: a clean environment, settings without caches, log capture, S3."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import structlog
from moto.server import ThreadedMotoServer

from lambdas.config import Settings, reset_settings
from tests import postgres
from tests.figures import FIGURES

_PIPELINE_VARIABLES = {name.upper() for name in Settings.model_fields} | {
    "AWS_LAMBDA_FUNCTION_NAME"
}
#: What a shell exports for its terminal (TERM=dumb turns off Rich's live display): a test's
#: output is never that terminal.
_TERMINAL_VARIABLES = {
    "COLUMNS",
    "LINES",
    "TERM",
    "COLORTERM",
    "FORCE_COLOR",
    "NO_COLOR",
    "TERMINAL_WIDTH",
}


@pytest.fixture(autouse=True)
def clean_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No pipeline variable leaks in from the machine or from another test; caches reset."""
    saved = dict(os.environ)
    for name in _PIPELINE_VARIABLES | _TERMINAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # the default data folder and any .env are per test
    _reset_caches()
    yield
    _reset_caches()
    os.environ.clear()
    os.environ.update(saved)


def _reset_caches() -> None:
    reset_settings()
    from lambdas.handlers import _runtime

    _runtime._container_context.cache_clear()


@pytest.fixture
def captured_logs() -> Iterator[list[dict[str, Any]]]:
    """Every structlog event of the test, after our processors ran."""
    with structlog.testing.capture_logs() as logs:
        yield logs


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """moto's S3-compatible server on a free loopback port; yields its endpoint URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(
    s3_server: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> str:
    """A fresh bucket per test on the moto server; AWS credentials for it in the environment."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    name = "imports-" + request.node.name.lower().replace("_", "-")[:40].strip("-[]")
    name = "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in name).strip("-")
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=name)
    return name


def pytest_configure(config: pytest.Config) -> None:
    """The coverage floor ([tool.coverage.report] fail_under) is for the whole suite: a run of some
    tests (paths, -k, --lf, --deselect) reports coverage but passes when its tests pass."""
    cov = config.pluginmanager.getplugin("_cov")
    if cov is None or _whole_suite(config):
        return
    if any(arg.startswith("--cov-fail-under") for arg in config.invocation_params.args):
        return  # asked for on the command line: kept
    cov.options.cov_fail_under = None


def _whole_suite(config: pytest.Config) -> bool:
    return (
        config.args_source == pytest.Config.ArgsSource.TESTPATHS
        and not config.option.keyword
        and not getattr(config.option, "lf", False)
        and not config.option.deselect
    )


def pytest_sessionfinish(session: pytest.Session) -> None:
    """After every fixture's teardown: an xdist worker hands its PostgreSQL choice and the
    reliability figures to the controller; the throwaway PostgreSQL, if one started, stops."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        choice = postgres.chosen()
        workeroutput["postgres"] = choice.origin if choice is not None else None
        workeroutput["figures"] = FIGURES.as_dict()
    postgres.stop()


_worker_postgres: dict[str, str] = {}  # xdist worker id → the PostgreSQL it used


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """In the xdist controller: what a worker that finished reported."""
    output = getattr(node, "workeroutput", None) or {}
    if output.get("postgres"):
        _worker_postgres[getattr(node.gateway, "id", "?")] = output["postgres"]
    if output.get("figures"):
        FIGURES.merge(output["figures"])


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The reliability figures, when a reliability test recorded any; then, last, which
    PostgreSQL server the database tests used (tests/postgres.py chose it)."""
    if FIGURES.recorded:
        terminalreporter.write_sep("=", "reliability figures")
        for line in FIGURES.lines():
            terminalreporter.write_line(line)
        broken = sorted(
            name for name, count in FIGURES.faults.items() if FIGURES.faults_survived[name] < count
        ) + sorted(
            name for name, count in FIGURES.hostile.items() if FIGURES.hostile_handled[name] < count
        )
        if broken:
            terminalreporter.write_line(f"not survived / not handled: {', '.join(broken)}")
    choice = postgres.chosen()
    origins = {"": choice.origin} if choice is not None else dict(sorted(_worker_postgres.items()))
    if len(set(origins.values())) == 1:
        origins = {"": next(iter(origins.values()))}
    for worker, origin in origins.items():
        where = f" ({worker})" if worker else ""
        terminalreporter.write_line(f"PostgreSQL for the tests{where}: {origin}")
