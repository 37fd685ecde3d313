"""Leader election on a `coordination.k8s.io/v1` Lease, so only one replica runs hooks and Helm.

`runtime/options.py` resolves `LeaderSettings.from_env` with the other settings; with
`ADDON_OPERATOR_HA=true` the runtime (`app.Leadership`) runs a `LeaderElector` in its own thread
before starting any work: the replica that holds the Lease converges modules, the others only serve
`/healthz`, `/readyz` (ready, as standbys) and `/metrics` (docs/operations.md, "High availability").
The runtime stops the elector only after its work has stopped, so the Lease is handed back when
nothing runs any more. The algorithm is client-go's leaderelection:

- a candidate takes the Lease when it is absent, free (empty `holderIdentity`) or expired, where
  "expired" is measured with the LOCAL clock from the moment this process last saw the Lease
  record change (clocks of different nodes are never compared);
- every write is an update carrying the observed `resourceVersion`, so two candidates racing for
  the same Lease cannot both win (the loser gets 409 and tries again one retry period later);
- the leader renews every retry period; when no renewal succeeds within the renew deadline, or
  another holder shows up, leadership is lost: `on_stopped_leading` runs and the process is
  expected to stop cleanly (upstream exits 0 and restarts fresh);
- when stopped while leading, the elector releases the Lease (empty holder, 1 s duration, as
  client-go's ReleaseOnCancel) so a successor takes over within one retry period.

The elector talks to the API only through `get`/`create`/`update` of `LeaseClient` (a subset of
`KubeClient`); the clocks and the sleep are injected so the tests never wait.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

from addon_operator.kube.errors import Conflict, KubeError, NotFound
from addon_operator.kube.resources import LEASES, Resource

log = logging.getLogger(__name__)

LEASE_NAME = "addon-operator-leader-election"   # as upstream
DEFAULT_LEASE_DURATION = 35                     # seconds, as upstream
DEFAULT_RENEW_DEADLINE = 30.0
DEFAULT_RETRY_PERIOD = 10.0
RELEASED_LEASE_DURATION = 1                     # what a released Lease says (client-go)

HA_ENV = "ADDON_OPERATOR_HA"
POD_ENV = "ADDON_OPERATOR_POD"
LISTEN_ADDRESS_ENV = "ADDON_OPERATOR_LISTEN_ADDRESS"
LEASE_DURATION_ENV = "ADDON_OPERATOR_HA_LEASE_DURATION_SECONDS"
RENEW_DEADLINE_ENV = "ADDON_OPERATOR_HA_RENEW_DEADLINE_SECONDS"
RETRY_PERIOD_ENV = "ADDON_OPERATOR_HA_RETRY_PERIOD_SECONDS"

_TRUE = frozenset({"1", "t", "T", "true", "TRUE", "True"})     # Go's strconv.ParseBool
_FALSE = frozenset({"0", "f", "F", "false", "FALSE", "False"})
_UNSPECIFIED_ADDRESSES = frozenset({"", "0.0.0.0", "::", "[::]"})
_MICRO_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


class LeaderSettingsError(ValueError):
    """A leader-election setting is unusable; the message names the variable."""


class LeaseClient(Protocol):
    """The part of `KubeClient` the elector uses (tests pass a fake with the same methods)."""

    def get(self, resource: Resource, name: str, *, namespace: str | None = None
            ) -> dict[str, Any]: ...

    def create(self, resource: Resource, obj: dict[str, Any], *, namespace: str | None = None
               ) -> dict[str, Any]: ...

    def update(self, resource: Resource, obj: dict[str, Any], *, namespace: str | None = None
               ) -> dict[str, Any]: ...


# ---- settings ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class LeaderSettings:
    """Whether to elect a leader, who this replica is, and the Lease timings (seconds)."""

    enabled: bool
    namespace: str
    identity: str
    lease_name: str = LEASE_NAME
    lease_duration: int = DEFAULT_LEASE_DURATION
    renew_deadline: float = DEFAULT_RENEW_DEADLINE
    retry_period: float = DEFAULT_RETRY_PERIOD

    def __post_init__(self) -> None:
        check_timings(self.lease_duration, self.renew_deadline, self.retry_period)

    @classmethod
    def from_env(cls, environ: Mapping[str, str], *, namespace: str,
                 hostname: str | None = None, pid: int | None = None) -> LeaderSettings:
        """Settings from upstream's variables (`ADDON_OPERATOR_HA`, `ADDON_OPERATOR_POD`,
        `ADDON_OPERATOR_LISTEN_ADDRESS`) plus the timing variables `..._HA_*_SECONDS`;
        `namespace` is the operator's resolved namespace (flag or environment)."""
        return cls(
            enabled=_bool(environ, HA_ENV),
            namespace=namespace,
            identity=identity_of(environ.get(POD_ENV, ""), environ.get(LISTEN_ADDRESS_ENV, ""),
                                 namespace, hostname=hostname, pid=pid),
            lease_duration=int(_number(environ, LEASE_DURATION_ENV, DEFAULT_LEASE_DURATION,
                                       whole=True)),
            renew_deadline=_number(environ, RENEW_DEADLINE_ENV, DEFAULT_RENEW_DEADLINE),
            retry_period=_number(environ, RETRY_PERIOD_ENV, DEFAULT_RETRY_PERIOD),
        )


def identity_of(pod: str, address: str, namespace: str, *, hostname: str | None = None,
                pid: int | None = None) -> str:
    """Upstream's `<pod>.<ip with dashes>.<namespace>.pod` when the pod name and its IP are
    known; the pod name alone without an IP; else `<hostname>_<pid>` (outside a cluster)."""
    if pod and address not in _UNSPECIFIED_ADDRESSES:
        return f"{pod}.{address.replace('.', '-').replace(':', '-')}.{namespace}.pod"
    if pod:
        return pod
    return f"{hostname or socket.gethostname()}_{os.getpid() if pid is None else pid}"


def check_timings(lease_duration: float, renew_deadline: float, retry_period: float) -> None:
    """client-go's rules: every duration positive, lease > renew deadline > retry period."""
    for name, value in ((LEASE_DURATION_ENV, lease_duration),
                        (RENEW_DEADLINE_ENV, renew_deadline), (RETRY_PERIOD_ENV, retry_period)):
        if value <= 0:
            raise LeaderSettingsError(f"{name} must be positive, got {value:g}")
    if lease_duration <= renew_deadline:
        raise LeaderSettingsError(
            f"{LEASE_DURATION_ENV} ({lease_duration:g}) must be greater than "
            f"{RENEW_DEADLINE_ENV} ({renew_deadline:g})")
    if renew_deadline <= retry_period:
        raise LeaderSettingsError(
            f"{RENEW_DEADLINE_ENV} ({renew_deadline:g}) must be greater than "
            f"{RETRY_PERIOD_ENV} ({retry_period:g})")


def _bool(environ: Mapping[str, str], name: str) -> bool:
    value = environ.get(name, "").strip()
    if value in _TRUE:
        return True
    if value in _FALSE or not value:
        return False
    raise LeaderSettingsError(f"{name}: expected true or false, got {value!r}")


def _number(environ: Mapping[str, str], name: str, default: float, *, whole: bool = False
            ) -> float:
    value = environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        raise LeaderSettingsError(f"{name}: expected a number of seconds, got {value!r}") \
            from None
    if whole and not number.is_integer():
        raise LeaderSettingsError(f"{name}: expected whole seconds, got {value!r}")
    return number


# ---- the Lease record --------------------------------------------------------------------------

@dataclass(frozen=True)
class LeaseRecord:
    """The leader-election fields of a Lease's spec."""

    holder: str = ""
    duration: int = 0
    acquire_time: str | None = None
    renew_time: str | None = None
    transitions: int = 0

    @classmethod
    def of(cls, lease: dict[str, Any]) -> LeaseRecord:
        spec = lease.get("spec") or {}
        return cls(holder=spec.get("holderIdentity") or "",
                   duration=int(spec.get("leaseDurationSeconds") or 0),
                   acquire_time=spec.get("acquireTime"), renew_time=spec.get("renewTime"),
                   transitions=int(spec.get("leaseTransitions") or 0))

    def spec(self) -> dict[str, Any]:
        return {"holderIdentity": self.holder, "leaseDurationSeconds": self.duration,
                "acquireTime": self.acquire_time, "renewTime": self.renew_time,
                "leaseTransitions": self.transitions}


def micro_time(moment: datetime) -> str:
    """A Kubernetes MicroTime: RFC 3339 in UTC with microseconds."""
    return moment.astimezone(timezone.utc).strftime(_MICRO_TIME)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


# ---- the elector -------------------------------------------------------------------------------

class LeaderElector:
    """Campaigns for the Lease, keeps it while leading, releases it when stopped.

    `on_started_leading` and `on_stopped_leading` run on the thread of `run` and must return
    quickly (set an event, start a thread). `on_stopped_leading` runs once after leading ended,
    whether leadership was lost or `run` was stopped; never if this replica did not lead.
    """

    def __init__(
        self,
        client: LeaseClient,
        *,
        namespace: str,
        identity: str,
        name: str = LEASE_NAME,
        lease_duration: int = DEFAULT_LEASE_DURATION,
        renew_deadline: float = DEFAULT_RENEW_DEADLINE,
        retry_period: float = DEFAULT_RETRY_PERIOD,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = _utcnow,
        sleep: Callable[[float], object] | None = None,
        on_started_leading: Callable[[], None] = lambda: None,
        on_stopped_leading: Callable[[], None] = lambda: None,
    ) -> None:
        """`clock` measures expiry (monotonic seconds), `now` stamps the Lease, `sleep` waits
        between attempts (default: wait on `run`'s stop event, so a stop ends a wait)."""
        check_timings(lease_duration, renew_deadline, retry_period)
        if not identity:
            raise LeaderSettingsError("leader election needs a non-empty identity")
        self._client = client
        self._namespace = namespace
        self._identity = identity
        self._name = name
        self._lease_duration = int(lease_duration)
        self._renew_deadline = renew_deadline
        self._retry_period = retry_period
        self._clock = clock
        self._now = now
        self._sleep = sleep
        self._on_started = on_started_leading
        self._on_stopped = on_stopped_leading
        self._leading = threading.Event()
        self._lease: dict[str, Any] | None = None      # the Lease as this replica last wrote it
        self._observed = LeaseRecord()
        self._observed_at = 0.0

    @classmethod
    def from_settings(cls, client: LeaseClient, settings: LeaderSettings, **options: Any
                      ) -> LeaderElector:
        """An elector for `settings`; `options` are the clocks, sleep and callbacks."""
        return cls(client, namespace=settings.namespace, identity=settings.identity,
                   name=settings.lease_name, lease_duration=settings.lease_duration,
                   renew_deadline=settings.renew_deadline, retry_period=settings.retry_period,
                   **options)

    @property
    def identity(self) -> str:
        return self._identity

    def is_leader(self) -> bool:
        """True from the first acquisition until leading ends (lost or stopped)."""
        return self._leading.is_set()

    def run(self, stop: threading.Event) -> bool:
        """Campaign, then lead until `stop` or until leadership is lost.

        Returns True when leadership was lost (the caller should stop its work and exit),
        False when `stop` ended the run (the Lease is released if it was held).
        """
        wait = self._sleep or stop.wait
        where = LEASES.describe(self._name, self._namespace)
        log.info("leader election: %s campaigns for %s", self._identity, where)
        if not self._acquire(stop, wait):
            return False
        self._leading.set()
        log.info("leader election: %s acquired %s", self._identity, where)
        lost = False
        try:
            self._on_started()
            lost = self._renew(stop, wait)
            if not lost:
                self._release()
        finally:
            self._leading.clear()
            self._on_stopped()
        return lost

    # ---- the loops -----------------------------------------------------------------------------

    def _acquire(self, stop: threading.Event, wait: Callable[[float], object]) -> bool:
        while not stop.is_set():
            if self._try_acquire_or_renew():
                return True
            wait(self._retry_period)
        return False

    def _renew(self, stop: threading.Event, wait: Callable[[float], object]) -> bool:
        """Renew every retry period until `stop` (False) or leadership is lost (True)."""
        while not stop.is_set():
            started = self._clock()
            while not self._try_acquire_or_renew():
                if self._observed.holder != self._identity:
                    log.warning("leader election: %s lost the lease to %r", self._identity,
                                self._observed.holder)
                    return True
                remaining = started + self._renew_deadline - self._clock()
                if remaining <= 0:
                    log.warning("leader election: %s could not renew the lease within %gs",
                                self._identity, self._renew_deadline)
                    return True
                wait(min(self._retry_period, remaining))
                if stop.is_set():
                    return False
            wait(self._retry_period)
        return False

    # ---- one attempt ---------------------------------------------------------------------------

    def _try_acquire_or_renew(self) -> bool:
        """One client-go `tryAcquireOrRenew`: True when this replica holds the Lease now."""
        observed_at = self._clock()
        stamp = micro_time(self._now())
        try:
            lease = self._client.get(LEASES, self._name, namespace=self._namespace)
        except NotFound:
            return self._create(LeaseRecord(self._identity, self._lease_duration, stamp, stamp),
                                observed_at)
        except KubeError as exc:
            log.warning("leader election: cannot read the lease: %s", exc)
            return False
        record = LeaseRecord.of(lease)
        if record != self._observed:
            self._observed, self._observed_at = record, observed_at
        if record.holder and record.holder != self._identity and \
                self._observed_at + record.duration > observed_at:
            return False
        if record.holder == self._identity:
            desired = LeaseRecord(self._identity, self._lease_duration, record.acquire_time,
                                  stamp, record.transitions)
        else:
            desired = LeaseRecord(self._identity, self._lease_duration, stamp, stamp,
                                  record.transitions + 1)
        return self._write(lease, desired, observed_at)

    def _create(self, record: LeaseRecord, observed_at: float) -> bool:
        body = {"apiVersion": LEASES.api_version, "kind": LEASES.kind,
                "metadata": {"name": self._name, "namespace": self._namespace},
                "spec": record.spec()}
        try:
            created = self._client.create(LEASES, body, namespace=self._namespace)
        except KubeError as exc:
            _log_write_failure("create", exc)
            return False
        self._remember(created, observed_at)
        return True

    def _write(self, lease: dict[str, Any], record: LeaseRecord, observed_at: float) -> bool:
        """Update `lease` to `record`, conditional on its resourceVersion (409 if stale)."""
        body = {**lease, "spec": {**(lease.get("spec") or {}), **record.spec()}}
        try:
            updated = self._client.update(LEASES, body, namespace=self._namespace)
        except KubeError as exc:
            _log_write_failure("update", exc)
            return False
        self._remember(updated, observed_at)
        return True

    def _remember(self, lease: dict[str, Any], observed_at: float) -> None:
        self._lease = lease
        self._observed, self._observed_at = LeaseRecord.of(lease), observed_at

    def _release(self) -> None:
        """Hand the Lease back (empty holder, 1 s) so a successor need not wait it out."""
        if self._lease is None or self._observed.holder != self._identity:
            return
        stamp = micro_time(self._now())
        released = LeaseRecord("", RELEASED_LEASE_DURATION, stamp, stamp,
                               self._observed.transitions)
        if self._write(self._lease, released, self._clock()):
            log.info("leader election: %s released the lease", self._identity)


def _log_write_failure(verb: str, exc: KubeError) -> None:
    if isinstance(exc, Conflict):
        log.info("leader election: lease %s lost a race (%s); retrying", verb, exc)
    else:
        log.warning("leader election: cannot %s the lease: %s", verb, exc)
