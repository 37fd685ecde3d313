"""Logging set-up: `LOG_LEVEL`, `LOG_TYPE` (`text` or `json`), `LOG_NO_TIME`, as upstream.

`run` and `sandbox` call `configure()` once at start. Code that works on a module, hook or
task logs through `bind(logger, module=..., hook=...)`, so every line carries those fields: as
`key=value` pairs in text, as fixed JSON keys (`time`, `level`, `logger`, `msg`, then `module`,
`hook`, `task`, `binding`, `queue`, then any other `extra`, then `error` for exceptions) in
JSON, one object per line for log collectors. Bound fields travel on the record as one dict
attribute, `log_fields`, because some names (`module`) are taken by `LogRecord` itself; a plain
logger call can pass `extra={"log_fields": {...}}` to the same effect.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping, MutableMapping
from datetime import datetime, timezone
from typing import Any, TextIO

LEVEL_ENV = "LOG_LEVEL"
TYPE_ENV = "LOG_TYPE"
NO_TIME_ENV = "LOG_NO_TIME"
LEVELS = {
    "debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING,
    "warning": logging.WARNING, "error": logging.ERROR,
}
TYPES = ("text", "json", "color")    # `color` is accepted as upstream and rendered as text
CONTEXT_FIELDS = ("module", "hook", "task", "binding", "queue")
_FIXED = ("time", "level", "logger", "msg")
# Attributes every LogRecord has; anything else on a record came from `extra`.
_RECORD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
FIELDS_ATTR = "log_fields"
_INSTALLED = "_addon_operator_handler"


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def record_fields(record: logging.LogRecord, with_time: bool = True) -> dict[str, Any]:
    """The ordered fields of a record, the same for both formats."""
    fields: dict[str, Any] = {}
    if with_time:
        fields["time"] = _timestamp(record)
    fields["level"] = record.levelname.lower()
    fields["logger"] = record.name
    fields["msg"] = record.getMessage()
    extras = {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRS | {FIELDS_ATTR}}
    extras.update(getattr(record, FIELDS_ATTR, None) or {})
    for key in CONTEXT_FIELDS:
        if extras.get(key) not in (None, ""):
            fields[key] = extras[key]
    for key in sorted(extras):
        if key not in CONTEXT_FIELDS and key not in _FIXED:
            fields[key] = extras[key]
    if record.exc_info:
        fields["error"] = logging.Formatter().formatException(record.exc_info)
    elif record.exc_text:
        fields["error"] = record.exc_text
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line; values JSON cannot encode are written as their `str()`."""

    def __init__(self, with_time: bool = True) -> None:
        super().__init__()
        self.with_time = with_time

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(record_fields(record, self.with_time), default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`<time> <LEVEL> <logger>: <msg> key=value ...`; values with spaces are quoted."""

    def __init__(self, with_time: bool = True) -> None:
        super().__init__()
        self.with_time = with_time

    def format(self, record: logging.LogRecord) -> str:
        fields = record_fields(record, self.with_time)
        head = f"{fields.pop('level').upper():<7} {fields.pop('logger')}: {fields.pop('msg')}"
        if "time" in fields:
            head = f"{fields.pop('time')} {head}"
        error = fields.pop("error", None)
        pairs = " ".join(f"{k}={_text_value(v)}" for k, v in fields.items())
        line = f"{head} {pairs}" if pairs else head
        return f"{line}\n{error}" if error else line


def _text_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    if text == "" or any(c.isspace() or c in "\"=" for c in text):
        return json.dumps(text, ensure_ascii=False)
    return text


def _choice(value: str, allowed: Mapping[str, Any] | tuple[str, ...], source: str) -> str:
    key = value.strip().lower()
    if key not in allowed:
        raise ValueError(f"{source}={value!r} is not one of {', '.join(allowed)}")
    return key


def configure(
    level: str | None = None,
    log_type: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Install the operator's handler on the root logger (replacing one installed before);
    arguments win over `LOG_LEVEL` / `LOG_TYPE` / `LOG_NO_TIME`. Returns the handler."""
    env = os.environ if environ is None else environ
    level_name = _choice(level or env.get(LEVEL_ENV) or "info", LEVELS,
                         "log level" if level else LEVEL_ENV)
    kind = _choice(log_type or env.get(TYPE_ENV) or "text", TYPES,
                   "log type" if log_type else TYPE_ENV)
    with_time = env.get(NO_TIME_ENV, "").lower() not in ("1", "true", "yes")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(with_time) if kind == "json" else TextFormatter(with_time))
    setattr(handler, _INSTALLED, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _INSTALLED, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(LEVELS[level_name])
    return handler


class FieldsAdapter(logging.LoggerAdapter[logging.Logger]):
    """A logger with bound fields; a call's own `extra` adds to them (and wins)."""

    def process(
        self, msg: Any, kwargs: MutableMapping[str, Any]
    ) -> tuple[Any, MutableMapping[str, Any]]:
        kwargs["extra"] = {FIELDS_ATTR: {**(self.extra or {}), **(kwargs.get("extra") or {})}}
        return msg, kwargs

    def bind(self, **fields: Any) -> FieldsAdapter:
        return FieldsAdapter(self.logger, {**(self.extra or {}), **fields})


def bind(logger: logging.Logger | FieldsAdapter, **fields: Any) -> FieldsAdapter:
    """`logger` with `fields` (e.g. module=, hook=, task=, binding=, queue=) on every line."""
    if isinstance(logger, FieldsAdapter):
        return logger.bind(**fields)
    return FieldsAdapter(logger, fields)
