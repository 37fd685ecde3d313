"""Resolving the operator's settings: flag > ADDON_OPERATOR_* > legacy > default; bad values."""

from __future__ import annotations

import argparse
import re
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
    assert (options.stall_after, options.retry_max_delay) == (5, 300.0)
    assert options.helm_monitor_interval == 270.0
    assert not options.leader.enabled and options.metrics_prefix == "addon_operator_"


def test_failure_policy_leader_and_metrics_settings(tmp_path: Path) -> None:
    env = {"ADDON_OPERATOR_STALL_AFTER_FAILURES": "2",
           "ADDON_OPERATOR_RETRY_INITIAL_DELAY_SECONDS": "0.5",
           "ADDON_OPERATOR_RETRY_MAX_DELAY_SECONDS": "8", "ADDON_OPERATOR_NAMESPACE": "ops",
           "ADDON_OPERATOR_HELM_MONITOR_INTERVAL_SECONDS": "0",
           "ADDON_OPERATOR_HA": "true", "ADDON_OPERATOR_POD": "replica-a",
           "ADDON_OPERATOR_PROMETHEUS_METRICS_PREFIX": "mine_", "LOG_LEVEL": "Debug"}
    options = resolve_options(parse("--tmp-dir", str(tmp_path)), env)
    assert (options.stall_after, options.retry_initial_delay, options.retry_max_delay) == \
        (2, 0.5, 8.0)
    assert options.helm_monitor_interval == 0.0, "0 turns auto-heal off"
    assert (options.leader.enabled, options.leader.namespace, options.leader.identity) == \
        (True, "ops", "replica-a")
    assert (options.metrics_prefix, options.log_level) == ("mine_", "debug")


def test_crd_settings(tmp_path: Path) -> None:
    defaults = resolve_options(parse("--tmp-dir", str(tmp_path)), {})
    assert defaults.crd_filter_prefixes == ("doc-", "_")
    assert defaults.crd_extra_labels == {"heritage": "addon-operator"}
    env = {"ADDON_OPERATOR_CRD_FILTER_PREFIXES": " skip-, ,x_ ",
           "ADDON_OPERATOR_CRD_EXTRA_LABELS": "example.com/owner=ops, tier = , heritage=me"}
    options = resolve_options(parse("--tmp-dir", str(tmp_path)), env)
    assert options.crd_filter_prefixes == ("skip-", "x_")
    assert options.crd_extra_labels == {"example.com/owner": "ops", "tier": "",
                                        "heritage": "me"}
    none = resolve_options(parse("--tmp-dir", str(tmp_path)), {
        "ADDON_OPERATOR_CRD_FILTER_PREFIXES": ",", "ADDON_OPERATOR_CRD_EXTRA_LABELS": ","})
    assert (none.crd_filter_prefixes, none.crd_extra_labels) == ((), {})


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
    ({"ADDON_OPERATOR_RETRY_MAX_DELAY_SECONDS": "2"},
     "$ADDON_OPERATOR_RETRY_MAX_DELAY_SECONDS=2 must be at least "
     "$ADDON_OPERATOR_RETRY_INITIAL_DELAY_SECONDS=5"),
    ({"ADDON_OPERATOR_STALL_AFTER_FAILURES": "0"},
     "$ADDON_OPERATOR_STALL_AFTER_FAILURES=0 must be at least 1"),
    ({"ADDON_OPERATOR_LISTEN_PORT": "70000"},
     "$ADDON_OPERATOR_LISTEN_PORT=70000 must be at most 65535"),
    ({"ADDON_OPERATOR_HELM_MONITOR_INTERVAL_SECONDS": "-5"},
     "$ADDON_OPERATOR_HELM_MONITOR_INTERVAL_SECONDS=-5 must be at least 0"),
    ({"LOG_TYPE": "xml"}, "$LOG_TYPE='xml' is not one of: text, json, color"),
    ({"LOG_LEVEL": "loud"}, "$LOG_LEVEL='loud' is not one of: debug, info, warn, warning, error"),
    ({"HELM_TIMEOUT": "soon"}, "$HELM_TIMEOUT='soon' is not a duration like 90s, 20m or 1h30m"),
    ({"ADDON_OPERATOR_PROMETHEUS_METRICS_PREFIX": "9-bad"},
     "ADDON_OPERATOR_PROMETHEUS_METRICS_PREFIX='9-bad' is not a valid Prometheus metric name"),
    ({"ADDON_OPERATOR_CRD_FILTER_PREFIXES": "doc-,crds/x"},
     "$ADDON_OPERATOR_CRD_FILTER_PREFIXES='doc-,crds/x': 'crds/x' is not a file-name prefix"),
    ({"ADDON_OPERATOR_CRD_EXTRA_LABELS": "heritage"},
     "$ADDON_OPERATOR_CRD_EXTRA_LABELS='heritage': 'heritage' is not key=value"),
    ({"ADDON_OPERATOR_CRD_EXTRA_LABELS": "a=ok,bad key=x"}, "'bad key=x' is not key=value"),
    ({"ADDON_OPERATOR_CRD_EXTRA_LABELS": "team=-a"},
     "the value of 'team' is not a valid label value"),
    ({"ADDON_OPERATOR_HA": "maybe"}, "ADDON_OPERATOR_HA: expected true or false, got 'maybe'"),
    ({"ADDON_OPERATOR_HA_RETRY_PERIOD_SECONDS": "40"},
     "ADDON_OPERATOR_HA_RENEW_DEADLINE_SECONDS (30) must be greater than "
     "ADDON_OPERATOR_HA_RETRY_PERIOD_SECONDS (40)"),
])
def test_bad_values_name_the_variable(tmp_path: Path, env: dict, message: str) -> None:
    with pytest.raises(OptionsError, match=re.escape(message)):
        resolve_options(parse("--tmp-dir", str(tmp_path)), env)
