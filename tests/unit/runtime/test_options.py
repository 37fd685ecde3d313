"""Resolving the operator's settings: flag > ADDON_OPERATOR_* > legacy > default; bad values."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from addon_operator.runtime.options import OptionsError, add_runtime_options, resolve_options


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--modules-dir")
    parser.add_argument("--global-hooks-dir")
    add_runtime_options(parser)
    return parser.parse_args(argv)


def test_environment_and_defaults(tmp_path: Path) -> None:
    env = {"ADDON_OPERATOR_NAMESPACE": "addons", "MODULES_DIR": "/m1:/m2",
           "ADDON_OPERATOR_LISTEN_PORT": "9999", "HELM_HISTORY_MAX": "3", "HELM_TIMEOUT": "5m",
           "ADDON_OPERATOR_TMP_DIR": str(tmp_path), "LOG_TYPE": "JSON"}
    options = resolve_options(parse(), env)
    assert options.namespace == "addons"
    assert options.modules_dirs == [Path("/m1"), Path("/m2")]
    assert (options.listen_port, options.helm_history_max, options.helm_timeout) == (9999, 3, "5m")
    assert options.tmp_dir == tmp_path and options.log_type == "json"
    assert options.parallel == 4


def test_flags_win(tmp_path: Path) -> None:
    args = parse("--namespace", "flag-ns", "--listen-port", "0", "--tmp-dir", str(tmp_path),
                 "--modules-dir", "/x", "--parallel", "2")
    options = resolve_options(args, {"ADDON_OPERATOR_NAMESPACE": "env-ns",
                                     "ADDON_OPERATOR_LISTEN_PORT": "1"})
    assert (options.namespace, options.listen_port, options.parallel) == ("flag-ns", 0, 2)
    assert options.modules_dirs == [Path("/x")]


@pytest.mark.parametrize("env, message", [
    ({"HELM_HISTORY_MAX": "ten"}, "$HELM_HISTORY_MAX='ten' is not an integer"),
    ({"HELM_HISTORY_MAX": "0"}, "$HELM_HISTORY_MAX=0 must be at least 1"),
    ({"ADDON_OPERATOR_RETRY_INITIAL_DELAY_SECONDS": "-1"}, "must be positive"),
])
def test_bad_values_name_the_variable(tmp_path: Path, env: dict, message: str) -> None:
    with pytest.raises(OptionsError, match=message.replace("$", r"\$")):
        resolve_options(parse("--tmp-dir", str(tmp_path)), env)
