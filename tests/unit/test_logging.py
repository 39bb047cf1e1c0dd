"""Logging: JSON or console output, run context on every line, secrets redacted everywhere."""

from __future__ import annotations

import io
import json
import logging

import httpx
import pytest
import structlog

import lambdas.logging
from lambdas.errors import UpstreamUnavailableError
from lambdas.logging import (
    REDACTED,
    bind_invocation,
    bound_run,
    configure_logging,
    redact_text,
    register_secrets,
)


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_run_context() -> None:
    stream = io.StringIO()
    configure_logging(level="INFO", log_format="json", stream=stream)
    log = structlog.get_logger()
    with bound_run(import_id="imp-1", user_id="u1"):
        log.info("stage.finished", game_count=3)
    log.debug("hidden")
    [line] = _lines(stream)
    assert line["event"] == "stage.finished"
    assert (line["import_id"], line["user_id"], line["game_count"]) == ("imp-1", "u1", 3)
    assert line["level"] == "info" and "timestamp" in line


def test_console_output_when_asked() -> None:
    stream = io.StringIO()
    configure_logging(level="INFO", log_format="console", stream=stream)
    structlog.get_logger().info("hello", who="world")
    text = stream.getvalue()
    assert "hello" in text and "who=world" in text and not text.startswith("{")


def test_json_by_default_off_a_terminal() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream)
    structlog.get_logger().info("x")
    assert json.loads(stream.getvalue())["event"] == "x"


def test_bind_invocation_resets_context() -> None:
    stream = io.StringIO()
    configure_logging(log_format="json", stream=stream)
    bind_invocation(stage="a", user_id="u1", import_id="i1")
    bind_invocation(request_id="req-9", stage="b", user_id="u2", import_id=None)
    structlog.get_logger().info("x")
    line = _lines(stream)[0]
    assert line["user_id"] == "u2" and line["aws_request_id"] == "req-9"
    assert "import_id" not in line
    structlog.contextvars.clear_contextvars()


def test_invocations_carry_function_name_and_cold_start_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lambdas.logging, "_cold_start", True)  # as in a fresh container
    stream = io.StringIO()
    configure_logging(log_format="json", stream=stream)
    for request_id in ("req-1", "req-2", "req-3"):
        bind_invocation(request_id=request_id, function_name="steam-import", stage="s")
        structlog.get_logger().info("x")
    lines = _lines(stream)
    assert [line["cold_start"] for line in lines] == [True, False, False]
    assert {line["function_name"] for line in lines} == {"steam-import"}
    assert [line["aws_request_id"] for line in lines] == ["req-1", "req-2", "req-3"]
    structlog.contextvars.clear_contextvars()


def _chained_failure(secret: str) -> UpstreamUnavailableError:
    """Our error, caused by a library error whose text carries a secret (as a URL can)."""
    try:
        try:
            raise httpx.ConnectError(f"cannot connect to https://steam.test/x?key={secret}")
        except httpx.ConnectError as exc:
            raise UpstreamUnavailableError("cannot reach Steam (ConnectError)") from exc
    except UpstreamUnavailableError as error:
        return error


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_a_chained_cause_is_logged_but_its_secret_is_not(log_format: str) -> None:
    secret = "C0FFEE0123456789C0FFEE0123456789"
    register_secrets([secret])
    stream = io.StringIO()
    configure_logging(log_format=log_format, stream=stream)
    error = _chained_failure(secret)
    structlog.get_logger().error("stage.failed", exc_info=error)
    text = stream.getvalue()
    assert "ConnectError" in text and "cannot connect to https://steam.test/x" in text  # the cause
    assert "UpstreamUnavailableError" in text
    assert secret not in text and secret[:16] not in text
    assert "key=***" in text or REDACTED in text


def test_json_tracebacks_leave_frame_locals_out() -> None:
    stream = io.StringIO()
    configure_logging(log_format="json", stream=stream)
    unregistered = "not-yet-registered-secret-value"
    try:
        raise ValueError("boom")
    except ValueError:
        structlog.get_logger().exception("failed")
    assert unregistered not in stream.getvalue()
    assert "boom" in stream.getvalue()


def test_redaction_patterns() -> None:
    register_secrets(["topsecretvalue"])
    cases = {
        "GET https://api.steampowered.com/x?key=ABCDEF0123&steamid=1": "key=***",
        "Authorization: Bearer abcdefghijklmnop": "Bearer ***",
        "{'authorization': 'Bearer abcdefghijklmnop'}": "Bearer ***",
        "client_secret=hunter22&grant_type=client_credentials": "client_secret=***",
        '{"client_secret": "hunter22"}': '"client_secret": "***',
        "postgresql://app:dbpass@db:5432/app": "postgresql://app:***@db",
        "the value topsecretvalue leaked": "the value *** leaked",
    }
    for text, expected in cases.items():
        redacted = redact_text(text)
        assert expected in redacted, (text, redacted)
    assert "ABCDEF0123" not in redact_text("key=ABCDEF0123")


def test_secrets_in_fields_nested_values_and_exceptions() -> None:
    stream = io.StringIO()
    configure_logging(log_format="json", stream=stream)
    register_secrets(["s3cr3t-Value-42"])
    log = structlog.get_logger()
    log.info("x", url="https://h/p?key=s3cr3t-Value-42", nested={"a": ["s3cr3t-Value-42"]})
    try:
        raise RuntimeError("failed with postgresql://u:s3cr3t-Value-42@h/db")
    except RuntimeError:
        log.exception("boom")
    output = stream.getvalue()
    assert "s3cr3t-Value-42" not in output
    assert output.count("***") >= 3


def test_standard_library_http_logs_are_redacted() -> None:
    stream = io.StringIO()
    configure_logging(log_format="json", stream=io.StringIO())
    handler = logging.StreamHandler(stream)
    httpx_logger = logging.getLogger("httpx")
    httpx_logger.addHandler(handler)
    httpx_logger.setLevel(logging.INFO)
    try:
        httpx_logger.info('HTTP Request: GET %s "HTTP/1.1 200 OK"', "https://h/x?key=LEAKME123")
    finally:
        httpx_logger.removeHandler(handler)
    assert "LEAKME123" not in stream.getvalue()
    assert "key=***" in stream.getvalue()
