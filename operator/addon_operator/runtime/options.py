"""The settings of one operator process, resolved from flags, environment and defaults.

Names follow upstream (docs/operations.md, Settings): flag >
`ADDON_OPERATOR_*` variable > legacy variable > default. The `run` and `sandbox` commands build
a `RuntimeOptions` with `resolve_options` and hand it to `app.Operator`. Every setting is
checked here, before anything starts, so a bad value is one `OptionsError` naming the flag or
variable and what it accepts (the commands print it as one line and exit 1). Pure but for the
leader identity's fallback (host name and pid): the environment is passed in.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from addon_operator import logs
from addon_operator.discovery import DEFAULT_CRD_FILTER_PREFIXES
from addon_operator.helm.client import duration_seconds
from addon_operator.leader import LeaderSettings, LeaderSettingsError
from addon_operator.metrics import DEFAULT_PREFIX, metrics_prefix
from addon_operator.settings import resolve_global_hooks_dir, resolve_modules_dirs

DEFAULT_NAMESPACE = "default"
DEFAULT_LISTEN_ADDRESS = "0.0.0.0"
DEFAULT_LISTEN_PORT = 9650
DEFAULT_HELM_HISTORY_MAX = 10
DEFAULT_HELM_TIMEOUT = "20m"
DEFAULT_HOOK_TIMEOUT = 600.0
DEFAULT_PARALLEL = 4
DEFAULT_RETRY_INITIAL_DELAY = 5.0
DEFAULT_RETRY_MAX_DELAY = 300.0
DEFAULT_STALL_AFTER = 5
DEFAULT_HELM_MONITOR_INTERVAL = 270   # upstream's 4m30s (plus a random 0-60 s each round)
HELM_MONITOR_INTERVAL_ENV = "ADDON_OPERATOR_HELM_MONITOR_INTERVAL_SECONDS"
MAX_PORT = 65535
RETRY_INITIAL_DELAY_ENV = "ADDON_OPERATOR_RETRY_INITIAL_DELAY_SECONDS"
RETRY_MAX_DELAY_ENV = "ADDON_OPERATOR_RETRY_MAX_DELAY_SECONDS"
STALL_AFTER_ENV = "ADDON_OPERATOR_STALL_AFTER_FAILURES"
DEFAULT_TMP_DIR = str(Path(tempfile.gettempdir()) / "addon-operator")   # upstream's default
CRD_FILTER_PREFIXES_ENV = "ADDON_OPERATOR_CRD_FILTER_PREFIXES"
CRD_EXTRA_LABELS_ENV = "ADDON_OPERATOR_CRD_EXTRA_LABELS"
DEFAULT_CRD_EXTRA_LABELS = "heritage=addon-operator"
# Kubernetes label syntax: an optional DNS-subdomain prefix and `/`, a name of up to 63
# characters; values are empty or follow the name rule.
_LABEL_NAME = r"[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_LABEL_KEY = re.compile(rf"(?:[a-z0-9](?:[-a-z0-9.]{{0,251}}[a-z0-9])?/)?{_LABEL_NAME}")
_LABEL_VALUE = re.compile(rf"(?:{_LABEL_NAME})?")


class OptionsError(ValueError):
    """A setting has a value that cannot be used (names the flag or variable)."""


@dataclass(frozen=True)
class RuntimeOptions:
    """Everything `app.Operator` needs to know before it starts."""

    namespace: str
    modules_dirs: list[Path]
    global_hooks_dir: Path | None
    tmp_dir: Path
    leader: LeaderSettings
    kubeconfig: str | None = None
    listen_address: str = DEFAULT_LISTEN_ADDRESS
    listen_port: int = DEFAULT_LISTEN_PORT
    helm_binary: str = "helm"
    helm_history_max: int = DEFAULT_HELM_HISTORY_MAX
    helm_timeout: str = DEFAULT_HELM_TIMEOUT
    hook_timeout: float = DEFAULT_HOOK_TIMEOUT
    parallel: int = DEFAULT_PARALLEL           # equal-weight module runs at once
    retry_initial_delay: float = DEFAULT_RETRY_INITIAL_DELAY
    retry_max_delay: float = DEFAULT_RETRY_MAX_DELAY
    stall_after: int = DEFAULT_STALL_AFTER     # consecutive failures before `Stalled`
    helm_monitor_interval: float = DEFAULT_HELM_MONITOR_INTERVAL  # resource monitor; 0: off
    log_level: str = "info"
    log_type: str = "text"
    metrics_prefix: str = DEFAULT_PREFIX
    crd_filter_prefixes: tuple[str, ...] = DEFAULT_CRD_FILTER_PREFIXES   # crds/ files skipped
    crd_extra_labels: Mapping[str, str] = field(   # added to every CRD applied from crds/
        default_factory=lambda: _labels({}, CRD_EXTRA_LABELS_ENV, DEFAULT_CRD_EXTRA_LABELS))
    env: Mapping[str, str] = field(default_factory=dict)  # the environment hooks inherit


def add_runtime_options(parser: argparse.ArgumentParser) -> None:
    """The flags of `run` (also used by `sandbox`); each defaults to its environment variable."""
    parser.add_argument("--namespace", help="namespace of the Helm releases and Events "
                        "(default: $ADDON_OPERATOR_NAMESPACE or 'default')")
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, the "
                        "in-cluster service account, or ~/.kube/config)")
    parser.add_argument("--tmp-dir", help="directory for hook files and charts "
                        f"(default: $ADDON_OPERATOR_TMP_DIR or {DEFAULT_TMP_DIR})")
    parser.add_argument("--listen-address", help="HTTP address of /metrics, /healthz, /readyz "
                        "(default: $ADDON_OPERATOR_LISTEN_ADDRESS or 0.0.0.0)")
    parser.add_argument("--listen-port", type=int, help="HTTP port; 0 picks a free one "
                        "(default: $ADDON_OPERATOR_LISTEN_PORT or 9650)")
    parser.add_argument("--parallel", type=int, help="equal-weight module runs at once "
                        f"(default: $ADDON_OPERATOR_PARALLEL or {DEFAULT_PARALLEL})")


def resolve_options(args: argparse.Namespace, env: Mapping[str, str]) -> RuntimeOptions:
    """The options from parsed flags (see `add_runtime_options` plus the dir options) and `env`;
    raises `OptionsError` for the first unusable value."""
    hooks_default = "global-hooks" if Path("global-hooks").is_dir() else None
    tmp = args.tmp_dir or env.get("ADDON_OPERATOR_TMP_DIR") or DEFAULT_TMP_DIR
    namespace = args.namespace or env.get("ADDON_OPERATOR_NAMESPACE") or DEFAULT_NAMESPACE
    retry_initial_delay = _float(env, RETRY_INITIAL_DELAY_ENV, DEFAULT_RETRY_INITIAL_DELAY)
    retry_max_delay = _float(env, RETRY_MAX_DELAY_ENV, DEFAULT_RETRY_MAX_DELAY)
    if retry_max_delay < retry_initial_delay:
        raise OptionsError(f"${RETRY_MAX_DELAY_ENV}={retry_max_delay:g} must be at least "
                           f"${RETRY_INITIAL_DELAY_ENV}={retry_initial_delay:g}")
    return RuntimeOptions(
        namespace=namespace,
        modules_dirs=resolve_modules_dirs(args.modules_dir, env),
        global_hooks_dir=resolve_global_hooks_dir(args.global_hooks_dir, env,
                                                  default=hooks_default),
        tmp_dir=Path(tmp),
        leader=_leader(env, namespace),
        kubeconfig=args.kubeconfig or env.get("KUBECONFIG") or None,
        listen_address=args.listen_address or env.get("ADDON_OPERATOR_LISTEN_ADDRESS")
        or DEFAULT_LISTEN_ADDRESS,
        listen_port=_int(args.listen_port, env, "ADDON_OPERATOR_LISTEN_PORT",
                         DEFAULT_LISTEN_PORT, 0, MAX_PORT),
        helm_binary=env.get("ADDON_OPERATOR_HELM_BINARY") or "helm",
        helm_history_max=_int(None, env, "HELM_HISTORY_MAX", DEFAULT_HELM_HISTORY_MAX, 1),
        helm_timeout=_duration(env, "HELM_TIMEOUT", DEFAULT_HELM_TIMEOUT),
        hook_timeout=float(_int(None, env, "ADDON_OPERATOR_HOOK_TIMEOUT_SECONDS",
                                int(DEFAULT_HOOK_TIMEOUT), 1)),
        parallel=_int(args.parallel, env, "ADDON_OPERATOR_PARALLEL", DEFAULT_PARALLEL, 1),
        retry_initial_delay=retry_initial_delay,
        retry_max_delay=retry_max_delay,
        stall_after=_int(None, env, STALL_AFTER_ENV, DEFAULT_STALL_AFTER, 1),
        helm_monitor_interval=float(_int(None, env, HELM_MONITOR_INTERVAL_ENV,
                                         DEFAULT_HELM_MONITOR_INTERVAL, 0)),
        log_level=_choice(env, logs.LEVEL_ENV, tuple(logs.LEVELS), "info"),
        log_type=_choice(env, logs.TYPE_ENV, logs.TYPES, "text"),
        metrics_prefix=_metrics_prefix(env),
        crd_filter_prefixes=_prefixes(env, CRD_FILTER_PREFIXES_ENV, DEFAULT_CRD_FILTER_PREFIXES),
        crd_extra_labels=_labels(env, CRD_EXTRA_LABELS_ENV, DEFAULT_CRD_EXTRA_LABELS),
        env=dict(env),
    )


def _leader(env: Mapping[str, str], namespace: str) -> LeaderSettings:
    try:
        return LeaderSettings.from_env(env, namespace=namespace)
    except LeaderSettingsError as exc:
        raise OptionsError(str(exc)) from None


def _metrics_prefix(env: Mapping[str, str]) -> str:
    try:
        return metrics_prefix(env)
    except ValueError as exc:
        raise OptionsError(str(exc)) from None


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    raw = env.get(name)
    if not raw:
        return default
    value = raw.strip().lower()
    if value not in allowed:
        raise OptionsError(f"${name}={raw!r} is not one of: {', '.join(allowed)}")
    return value


def _prefixes(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """Comma-separated file-name prefixes; blank items are ignored."""
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    prefixes = tuple(item.strip() for item in raw.split(",") if item.strip())
    for prefix in prefixes:
        if "/" in prefix:
            raise OptionsError(f"${name}={raw!r}: {prefix!r} is not a file-name prefix "
                               "(no '/')")
    return prefixes


def _labels(env: Mapping[str, str], name: str, default: str) -> dict[str, str]:
    """Comma-separated `key=value` Kubernetes labels."""
    raw = env.get(name) or default
    labels = {}
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not _LABEL_KEY.fullmatch(key):
            raise OptionsError(f"${name}={raw!r}: {item!r} is not key=value with a valid "
                               "label key (an optional DNS prefix and '/', a name of up to 63 "
                               "letters, digits, '-', '_', '.')")
        if not _LABEL_VALUE.fullmatch(value):
            raise OptionsError(f"${name}={raw!r}: the value of {key!r} is not a valid label "
                               "value (up to 63 letters, digits, '-', '_', '.'; alphanumeric "
                               "at both ends)")
        labels[key] = value
    return labels


def _duration(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name)
    if not raw:
        return default
    try:
        duration_seconds(raw)
    except ValueError:
        raise OptionsError(f"${name}={raw!r} is not a duration like 90s, 20m or 1h30m") \
            from None
    return raw


def _int(flag: int | None, env: Mapping[str, str], name: str, default: int, minimum: int,
         maximum: int | None = None) -> int:
    if flag is not None:
        value, source = flag, f"--{name.lower().replace('addon_operator_', '').replace('_', '-')}"
    else:
        raw = env.get(name)
        if not raw:
            return default
        source = f"${name}"
        try:
            value = int(raw)
        except ValueError:
            raise OptionsError(f"{source}={raw!r} is not an integer") from None
    if value < minimum:
        raise OptionsError(f"{source}={value} must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise OptionsError(f"{source}={value} must be at most {maximum}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise OptionsError(f"${name}={raw!r} is not a number") from None
    if value <= 0:
        raise OptionsError(f"${name}={raw!r} must be positive")
    return value

