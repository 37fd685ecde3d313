"""Logging: level and type settings, JSON and text formats, bound fields."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from addon_operator.logs import JsonFormatter, TextFormatter, bind, configure

CREATED = 1740830400.25   # 2025-03-01T12:00:00.250Z


@pytest.fixture(autouse=True)
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def record(msg: str = "helm upgrade done", exc_info: object = None,
           **fields: object) -> logging.LogRecord:
    return logging.makeLogRecord({"name": "addon_operator.helm", "levelno": logging.INFO,
                                  "levelname": "INFO", "msg": msg, "created": CREATED,
                                  "exc_info": exc_info, "log_fields": fields})


def test_json_has_fixed_keys_in_order() -> None:
    line = JsonFormatter().format(record(queue="main", hook="hooks/a", module="echo",
                                         revision=3, task="ModuleRun", zeta="z"))
    data = json.loads(line)
    assert list(data) == ["time", "level", "logger", "msg", "module", "hook", "task", "queue",
                          "revision", "zeta"]
    assert data["time"] == "2025-03-01T12:00:00.250Z"
    assert data["level"] == "info" and data["logger"] == "addon_operator.helm"
    assert data["msg"] == "helm upgrade done" and data["revision"] == 3


def test_json_exception_and_unencodable_values() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        import sys
        rec = record(exc_info=sys.exc_info(), path=object.__new__(object))
    data = json.loads(JsonFormatter(with_time=False).format(rec))
    assert "time" not in data
    assert "RuntimeError: boom" in data["error"]
    assert data["path"].startswith("<object object")


def test_text_format() -> None:
    line = TextFormatter().format(record("hook failed", module="echo", hook="hooks/a b",
                                         binding="beforeHelm"))
    assert line == ('2025-03-01T12:00:00.250Z INFO    addon_operator.helm: hook failed '
                    'module=echo hook="hooks/a b" binding=beforeHelm')
    assert TextFormatter(with_time=False).format(record("plain")) == "INFO    addon_operator.helm: plain"


def test_configure_from_environment_and_bound_fields() -> None:
    out = io.StringIO()
    configure(environ={"LOG_LEVEL": "debug", "LOG_TYPE": "json", "LOG_NO_TIME": "true"}, stream=out)
    log = bind(logging.getLogger("addon_operator.runtime"), module="echo", task="ModuleRun")
    log.debug("start", extra={"task": "ModuleDelete"})
    log.bind(hook="hooks/a").info("hook ran")
    first, second = [json.loads(line) for line in out.getvalue().splitlines()]
    assert first == {"level": "debug", "logger": "addon_operator.runtime", "msg": "start",
                     "module": "echo", "task": "ModuleDelete"}
    assert second["hook"] == "hooks/a" and second["task"] == "ModuleRun"
    assert bind(log, queue="q").extra == {"module": "echo", "task": "ModuleRun", "queue": "q"}


def test_plain_logger_extras_are_kept() -> None:
    out = io.StringIO()
    configure("info", "json", environ={"LOG_NO_TIME": "1"}, stream=out)
    logging.getLogger("x").info("hi", extra={"revision": 2, "log_fields": {"module": "echo"}})
    assert json.loads(out.getvalue()) == {"level": "info", "logger": "x", "msg": "hi",
                                          "module": "echo", "revision": 2}
    assert "module" not in JsonFormatter().format(logging.makeLogRecord({"msg": "m"}))


def test_configure_replaces_its_own_handler_and_filters_by_level() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure("info", "text", environ={}, stream=first)
    configure(environ={"LOG_LEVEL": "error"}, stream=second)
    logging.getLogger("x").warning("dropped")
    logging.getLogger("x").error("kept")
    assert first.getvalue() == ""
    assert second.getvalue().endswith("ERROR   x: kept\n")
    installed = [h for h in logging.getLogger().handlers if getattr(h, "_addon_operator_handler", False)]
    assert len(installed) == 1


@pytest.mark.parametrize("kwargs,message", [
    ({"environ": {"LOG_LEVEL": "verbose"}}, "LOG_LEVEL='verbose' is not one of debug, info"),
    ({"environ": {"LOG_TYPE": "xml"}}, "LOG_TYPE='xml' is not one of text, json, color"),
    ({"level": "loud", "environ": {}}, "log level='loud'"),
])
def test_bad_settings_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        configure(stream=io.StringIO(), **kwargs)
