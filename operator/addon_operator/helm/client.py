"""`HelmClient`: every `helm` call the operator makes, through the injected process runner.

The module runtime calls `inputs_checksum` → `status` for each module run; when
`inputs_unchanged` says the release was made from the same inputs it stops there, otherwise it
goes on with `render` → `manifest_checksum` → `should_upgrade` → `upgrade`. It calls `uninstall`
on disable, `list_releases` to find releases to purge, and the resource monitor calls `status`
and `manifest` to find releases to heal. Decisions (docs/differences.md, Helm;
docs/modules.md, "Chart, synthetic chart, or hooks only"):

- Rendering uses `helm template --is-upgrade`: it needs no cluster (the `render` command uses it
  too), is deterministic, and renders the manifests an upgrade applies (upstream also renders
  as an upgrade). A chart reading `.Capabilities` from the cluster or using `lookup` renders
  the client defaults instead; that only matters for the checksum, which stays stable.
- `helm` runs with private, empty `HELM_CACHE_HOME`/`HELM_CONFIG_HOME`/`HELM_DATA_HOME` under
  `home`, `HELM_DRIVER` (default `secret`), `HELM_NAMESPACE`, `KUBECONFIG`; from the caller's
  environment only `PATH`, `HOME`, `TMPDIR`, proxies and the in-cluster service variables pass.
- `upgrade --install` with `--skip-crds`, `--history-max`, `--timeout`, release labels
  `moduleChecksum=<md5>`, `moduleInputsChecksum=<md5>` (inputs.py) when given, plus
  `extra_labels` (default `heritage=addon-operator`),
  `--take-ownership` where the CLI has it, no `--wait`/`--atomic` (helm 4's default `hookOnly`
  wait equals helm 3's behaviour; its server-side apply default is kept).
- A release stuck in `pending-*` is recovered before upgrading. With the secret driver and an
  injected `delete_release_record(name, namespace, revision)` (the runtime wires the Kubernetes
  client in), the pending record `sh.helm.release.v1.<name>.v<N>` is deleted, as upstream does.
  Without it, helm's own means are used, as upstream does for other drivers: `helm rollback` to
  the last non-pending revision, or `helm uninstall` when there is none.
- The inputs label is set with helm v3 too, but v3's `helm get metadata` prints no labels and
  only the manifest checksum has a values fallback, so with v3 every run renders: the skip is a
  helm v4 optimisation, and the label stays truthful if the CLI changes back and forth.
- A release is ours when it carries the `moduleChecksum` label (helm v3: the checksum value);
  only those are uninstalled (`ReleaseNotOwnedError` otherwise) or reported as owned by
  `list_releases`. `upgrade` of a same-named foreign release adopts it, as upstream does.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path

from ..runner import Completed, Runner, run
from .errors import HelmError, ReleaseNotOwnedError
from . import inputs
from .release import (
    CHECKSUM_LABEL,
    CHECKSUM_VALUES_KEY,
    DEFAULT_EXTRA_LABELS,
    INPUTS_CHECKSUM_LABEL,
    ReleaseInfo,
    parse_history,
    parse_list,
    parse_metadata,
    parse_names,
    parse_release,
    parse_values_checksum,
)
from .version import HelmVersion

# Called with (release, namespace, revision); what it returns is ignored.
DeleteReleaseRecord = Callable[[str, str, int], object]

PASSTHROUGH_ENV = (
    "PATH", "HOME", "TMPDIR", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT",
    "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy",
)
SECRET_DRIVERS = frozenset({"secret", "secrets"})
NOT_FOUND_MARKER = "release: not found"
LIST_MAX = 10000  # `helm list --max 0` means "the storage's default", not "all"
# Extra seconds a mutating helm call may take beyond its own --timeout before it is killed.
KILL_GRACE_SECONDS = 60.0
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_DURATION_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


class HelmClient:
    """One namespace's releases, driven through the `helm` binary."""

    def __init__(
        self,
        namespace: str,
        *,
        home: Path,
        binary: str = "helm",
        kubeconfig: str | None = None,
        history_max: int = 10,
        timeout: str | float = "20m",
        runner: Runner = run,
        extra_labels: Mapping[str, str] | None = None,
        driver: str = "secret",
        delete_release_record: DeleteReleaseRecord | None = None,
        query_timeout: float = 120.0,
        base_env: Mapping[str, str] | None = None,
    ) -> None:
        self.namespace = namespace
        self.binary = binary
        self.history_max = history_max
        self.timeout = format_duration(timeout)
        self.timeout_seconds = duration_seconds(self.timeout)
        self.query_timeout = query_timeout
        self.driver = driver
        self._runner = runner
        self._delete_release_record = delete_release_record
        self.extra_labels = _checked_labels(DEFAULT_EXTRA_LABELS if extra_labels is None else extra_labels)
        self.env = self._environment(home, kubeconfig, os.environ if base_env is None else base_env)
        self._version: HelmVersion | None = None

    @property
    def version(self) -> HelmVersion:
        """The CLI's version (asked once); raises `HelmError` for an unsupported helm."""
        if self._version is None:
            result = self._call("version", "", ["version", "--short"])
            version = HelmVersion.parse(result.stdout)
            version.require_supported()
            self._version = version
        return self._version

    def inputs_checksum(self, release: str, chart_dir: Path, values_file: Path) -> str:
        """Checksum of everything `render` would read (inputs.py), for `upgrade` to label."""
        try:
            return inputs.inputs_checksum(chart_dir, values_file, release=release,
                                          namespace=self.namespace,
                                          helm_version=str(self.version))
        except OSError as exc:
            raise HelmError("inputs checksum", release,
                            f"cannot read chart {chart_dir} or values {values_file}: {exc}") from None

    def render(self, release: str, chart_dir: Path, values_file: Path) -> str:
        """The manifests an upgrade would apply (`helm template`, no cluster needed)."""
        args = ["template", release, str(chart_dir), *self._ns(), "--values", str(values_file),
                "--is-upgrade"]
        return self._call("template", release, args).stdout

    def status(self, release: str) -> ReleaseInfo | None:
        """The latest revision of `release`, or None when there is no such release."""
        result = self._call_unless_missing(
            "get metadata", release, ["get", "metadata", release, *self._ns(), "--output", "json"]
        )
        if result is None:
            return None
        info = parse_metadata(result.stdout)
        if info.checksum is None and not self.version.metadata_has_labels:
            values = self._call("get values", release,
                                ["get", "values", release, *self._ns(), "--output", "json"])
            checksum = parse_values_checksum(values.stdout)
            info = dataclasses.replace(info, checksum=checksum, owned=checksum is not None)
        return info

    def manifest(self, release: str) -> str | None:
        """The manifest of the latest revision (`helm get manifest`), None without a release."""
        result = self._call_unless_missing("get manifest", release,
                                           ["get", "manifest", release, *self._ns()])
        return None if result is None else result.stdout

    def upgrade(self, release: str, chart_dir: Path, values_file: Path, checksum: str,
                inputs_checksum: str | None = None) -> ReleaseInfo:
        """`helm upgrade --install`, recovering a release stuck in `pending-*` first.

        `checksum` is the rendered manifests' (`moduleChecksum`), `inputs_checksum` that of
        the render's inputs (`moduleInputsChecksum`, left out when None).
        """
        current = self.status(release)
        if current is not None and current.pending:
            self._recover_pending(current)
        labels = {CHECKSUM_LABEL: checksum, **self.extra_labels}
        if inputs_checksum is not None:
            labels[INPUTS_CHECKSUM_LABEL] = inputs_checksum
        args = [
            "upgrade", "--install", release, str(chart_dir), *self._ns(),
            "--values", str(values_file),
            "--history-max", str(self.history_max),
            "--timeout", self.timeout,
            "--skip-crds",
            "--labels", ",".join(f"{k}={v}" for k, v in labels.items()),
            "--output", "json",
        ]
        if self.version.takes_ownership:
            args.append("--take-ownership")
        if not self.version.metadata_has_labels:
            args += ["--set-string", f"{CHECKSUM_VALUES_KEY}={checksum}"]
        result = self._call("upgrade", release, args, timeout=self._mutation_timeout())
        return parse_release(result.stdout, labels)

    def uninstall(self, release: str) -> bool:
        """Uninstall an owned release; False when there is none. Foreign releases are refused."""
        info = self.status(release)
        if info is None:
            return False
        if not info.owned:
            raise ReleaseNotOwnedError(
                "uninstall", release,
                f"release {self.namespace}/{release} was not created by addon-operator "
                f"(no {CHECKSUM_LABEL} label); it is left untouched",
            )
        result = self._call_unless_missing("uninstall", release, self._uninstall_args(release),
                                           timeout=self._mutation_timeout())
        return result is not None

    def list_releases(self) -> list[ReleaseInfo]:
        """Every release in the namespace, in every state, each marked owned or not."""
        listing = ["list", *self._ns(), *self.version.list_all_flags, "--max", str(LIST_MAX),
                   "--output", "json"]
        everything = self._call("list", "", listing)
        ours = self._call("list", "", [*listing, "--selector", CHECKSUM_LABEL])
        return parse_list(everything.stdout, parse_names(ours.stdout))

    def _recover_pending(self, info: ReleaseInfo) -> None:
        if self._delete_release_record is not None and self.driver in SECRET_DRIVERS:
            self._delete_release_record(info.name, self.namespace, info.revision)
            return
        history = self._call("history", info.name,
                             ["history", info.name, *self._ns(), "--output", "json"])
        settled = [rev for rev, status in parse_history(history.stdout)
                   if rev < info.revision and not status.startswith("pending-")]
        if settled and self.history_max != 1:
            args = ["rollback", info.name, str(settled[-1]), *self._ns(),
                    "--history-max", str(self.history_max), "--timeout", self.timeout]
            self._call("rollback", info.name, args, timeout=self._mutation_timeout())
        else:
            self._call("uninstall", info.name, self._uninstall_args(info.name),
                       timeout=self._mutation_timeout())

    def _uninstall_args(self, release: str) -> list[str]:
        return ["uninstall", release, *self._ns(), "--timeout", self.timeout]

    def _ns(self) -> list[str]:
        return ["--namespace", self.namespace]

    def _mutation_timeout(self) -> float:
        return self.timeout_seconds + KILL_GRACE_SECONDS

    def _call(self, operation: str, release: str, args: list[str], *,
              timeout: float | None = None) -> Completed:
        result = self._exec(args, timeout)
        if not result.ok:
            raise _failure(operation, release, result)
        return result

    def _call_unless_missing(self, operation: str, release: str, args: list[str], *,
                             timeout: float | None = None) -> Completed | None:
        """Like `_call`, but None when helm says the release does not exist."""
        result = self._exec(args, timeout)
        if result.ok:
            return result
        if NOT_FOUND_MARKER in result.stderr and not result.timed_out:
            return None
        raise _failure(operation, release, result)

    def _exec(self, args: list[str], timeout: float | None) -> Completed:
        return self._runner([self.binary, *args], env=self.env,
                            timeout=timeout if timeout is not None else self.query_timeout)

    def _environment(self, home: Path, kubeconfig: str | None,
                     base_env: Mapping[str, str]) -> dict[str, str]:
        env = {key: base_env[key] for key in PASSTHROUGH_ENV if key in base_env}
        for var, sub in (("HELM_CACHE_HOME", "cache"), ("HELM_CONFIG_HOME", "config"),
                         ("HELM_DATA_HOME", "data")):
            path = home / sub
            path.mkdir(parents=True, exist_ok=True)
            env[var] = str(path)
        env["HELM_DRIVER"] = self.driver
        env["HELM_NAMESPACE"] = self.namespace
        kube = kubeconfig if kubeconfig is not None else base_env.get("KUBECONFIG")
        if kube:
            env["KUBECONFIG"] = kube
        return env


def _failure(operation: str, release: str, result: Completed) -> HelmError:
    if result.timed_out:
        return HelmError(operation, release, f"killed after {result.seconds:.0f}s (timed out)")
    return HelmError(operation, release,
                     error_text(result.stderr) or f"exit code {result.exit_code}, no error output")


def error_text(stderr: str) -> str:
    """helm's whole error from its stderr: from the first `Error:` line to the end (a template
    error names the file and position on that line and the cause on the following ones; the
    warnings printed before it are left out), or all of stderr when no line starts so; blank
    lines dropped."""
    lines = [line.rstrip() for line in stderr.splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if line.startswith("Error:")), 0)
    return "\n".join(lines[start:])


def duration_seconds(text: str) -> float:
    """A Go duration such as `20m`, `1h30m` or `90s` in seconds."""
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(num + unit for num, unit in parts) != text:
        raise ValueError(f"helm timeout {text!r} is not a duration like 90s, 20m or 1h30m")
    return sum(float(num) * _DURATION_UNITS[unit] for num, unit in parts)


def format_duration(value: str | float) -> str:
    """A timeout given as seconds or as a Go duration string, as helm's `--timeout` takes it."""
    if isinstance(value, str):
        duration_seconds(value)
        return value
    return f"{value:g}s"


def _checked_labels(labels: Mapping[str, str]) -> dict[str, str]:
    for own in (CHECKSUM_LABEL, INPUTS_CHECKSUM_LABEL):
        if own in labels:
            raise ValueError(f"helm release label {own!r} is set by addon-operator itself")
    for key, value in labels.items():
        if not key or any(ch in f"{key}{value}" for ch in ",="):
            raise ValueError(f"helm release label {key!r}={value!r}: keys and values may not "
                             "be empty or contain ',' or '='")
    return dict(labels)
