"""Structured logging: JSON off a terminal or in Lambda, readable on a TTY, secrets redacted."""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any

import structlog
from structlog.tracebacks import ExceptionDictTransformer
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "***"

# Patterns that carry a secret whatever its value: query keys, auth headers, URL passwords.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(key|client_secret|access_token|token|password)=([^&\s'\"]+)"), r"\1=***"),
    (
        re.compile(
            r"(?i)\b(authorization['\"]?\s*[:=]\s*['\"]?)(bearer|oauth|basic)\s+[^\s'\",}]+"
        ),
        r"\1\2 ***",
    ),
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 ***"),
    (
        re.compile(
            r"(?i)(['\"](?:client_secret|access_token|password|api_key)['\"]\s*:\s*['\"])[^'\"]*"
        ),
        r"\1***",
    ),
    (re.compile(r"([a-z][a-z0-9+.-]*://[^:/@\s]+:)[^@\s/]+(@)"), r"\1***\2"),
)

_known_secrets: set[str] = set()


def register_secrets(values: Iterable[str]) -> None:
    """Redact these exact values from every later log line (settings call this)."""
    _known_secrets.update(value for value in values if len(value) >= 4)


def redact_text(text: str) -> str:
    """Remove every known secret and secret-shaped fragment from `text`."""
    for secret in sorted(_known_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, BaseException):
        return redact_text(f"{type(value).__name__}: {value}")
    if isinstance(value, Mapping):
        return {key: _redact_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [_redact_value(item) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact_text(str(value))


def redact_secrets(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """structlog processor: scrub every value, including rendered tracebacks."""
    for key, value in list(event_dict.items()):
        if key in {"exc_info", "stack_info"} and not isinstance(value, str):
            continue
        event_dict[key] = _redact_value(value)
    return event_dict


class _RedactingFilter(logging.Filter):
    """Scrubs standard-library records (httpx logs each request URL, key included, at INFO)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact_text(record.getMessage())
        record.args = None
        return True


def _guard_library_loggers() -> None:
    for name in ("httpx", "httpcore", "botocore", "urllib3", "sqlalchemy.engine"):
        library_logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactingFilter) for f in library_logger.filters):
            library_logger.addFilter(_RedactingFilter())
    logging.getLogger("httpx").setLevel(logging.WARNING)


class _StderrLogger:
    """Writes to whatever `sys.stderr` is at call time (test runners swap and close it)."""

    def __init__(self, *_: Any) -> None:
        pass

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


def _in_lambda() -> bool:
    return "AWS_LAMBDA_FUNCTION_NAME" in os.environ


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]


def configure_logging(
    *, level: str = "INFO", log_format: str | None = None, stream: Any = None
) -> None:
    """Configure structlog once per process: JSON off a TTY or in Lambda, console otherwise."""
    _guard_library_loggers()
    out = stream if stream is not None else sys.stderr
    use_json = (
        log_format == "json"
        if log_format
        else (_in_lambda() or not getattr(out, "isatty", lambda: False)())
    )
    processors = _shared_processors()
    if use_json:
        processors += [
            # No frame locals: a repr cut at 80 characters can hold part of a secret, which
            # exact-value redaction would then miss. Chained causes are kept (and redacted).
            structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False)),
            redact_secrets,
            structlog.processors.JSONRenderer(),
        ]
    else:
        processors += [
            structlog.processors.format_exc_info,
            redact_secrets,
            structlog.dev.ConsoleRenderer(colors=getattr(out, "isatty", lambda: False)()),
        ]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=(
            structlog.PrintLoggerFactory(file=stream) if stream is not None else _StderrLogger
        ),
        # Off even in Lambda: a logger used before configure_logging (a settings error) would
        # keep the default chain, without redaction, for the container's life.
        cache_logger_on_first_use=False,
    )


@contextmanager
def bound_run(**context: Any) -> Iterator[None]:
    """Bind run context (import_id, user_id, stage …) to every log line inside the block."""
    with structlog.contextvars.bound_contextvars(**context):
        yield


_cold_start = True  # the first invocation of this process (a Lambda container) is the cold one


def bind_invocation(
    *, request_id: str | None = None, function_name: str | None = None, **fields: Any
) -> None:
    """Start a Lambda invocation's log context: clear the last one, then bind the request id,
    the function name, whether this is the container's cold start, and `fields`."""
    global _cold_start
    structlog.contextvars.clear_contextvars()
    bound: MutableMapping[str, Any] = {key: value for key, value in fields.items() if value}
    if request_id:
        bound["aws_request_id"] = request_id
    if function_name:
        bound["function_name"] = function_name
    bound["cold_start"], _cold_start = _cold_start, False
    structlog.contextvars.bind_contextvars(**bound)
