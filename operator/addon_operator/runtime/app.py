"""The composition root: builds every runtime part from `RuntimeOptions` and runs until stopped.

`Operator(options).run(stop)` is what `addon-operator run` (and `sandbox`, in-process) call.
Start-up, in order: discovery, the HTTP listener (so probes answer early), the Kubernetes client
(the release namespace must exist, as for helm), with `ADDON_OPERATOR_HA=true` the wait for the
leader Lease (`Leadership`, on `leader.py`), global hook configuration (a broken `--config` is
fatal, as upstream), the Module/GlobalConfig objects (created when missing), the start-up
converge, the workers, the watches and the resource monitor (auto-heal). `stop` (set by
SIGTERM/SIGINT) closes the queue, lets running tasks finish (up to `SHUTDOWN_GRACE` seconds),
stops the watches and the monitor, then hands the Lease back (so a standby takes over within
one retry period, and never while this replica still works), then stops the listener and closes
the client.

`/readyz` is 200 once this replica's first converge is done; with leader election a follower
is ready as well (it is a healthy standby; only the leader runs hooks and Helm).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry

from addon_operator.bindings import HookBindings
from addon_operator.discovery import discover
from addon_operator.enablement import EnabledScriptRunner
from addon_operator.helm import HelmClient, HelmError, release_record_name
from addon_operator.httpserver import Heartbeats, HttpServer
from addon_operator.kube import KubeClient, Resource
from addon_operator.leader import LeaderElector, LeaderSettings, LeaseClient
from addon_operator.metrics import HookMetrics, OperatorMetrics
from addon_operator.queue import MAIN, QueueSettings, TaskQueues
from addon_operator.values import GLOBAL_KEY, Schemas

from .controllers import Controllers
from .converge import Converger
from .binding_runs import BindingRuns, merge_runs
from .dispatch import TaskHandlers
from .events import EventRecorder
from .hook_runs import LifecycleHooks
from .module_crds import ModuleCrds
from .module_delete import ModuleDeleter
from .module_run import ModuleRunner
from .options import RuntimeOptions
from .queue_metrics import QueueMetrics
from .resource_monitor import ResourceMonitor
from .state import Request, RuntimeState
from .status_writer import StatusWriter
from .worker import Attempts, WorkerPools

log = logging.getLogger(__name__)

SECRETS = Resource("", "v1", "secrets", True, "Secret", "secret")
TICK_SECONDS = 10.0          # live_ticks, as upstream
SHUTDOWN_GRACE = 30.0
HEARTBEAT_MAX_AGE = 60.0
SYNC_TIMEOUT = 300.0         # how long start-up and module runs wait for Synchronization
RELEASE_TIMEOUT = 10.0       # how long the Lease hand-back may take at shutdown
POLL_SECONDS = 0.2


class Operator:
    """One operator process; `port` is the bound HTTP port once `run` has started it."""

    def __init__(self, options: RuntimeOptions,
                 on_ready: Callable[[], None] | None = None) -> None:
        self.options = options
        self.port: int | None = None
        self._on_ready = on_ready

    def run(self, stop: threading.Event) -> int:
        options = self.options
        discovery = discover(options.modules_dirs, options.global_hooks_dir,
                             crd_filter_prefixes=options.crd_filter_prefixes)
        for warning in discovery.warnings:
            log.warning("discovery: %s", warning)
        registry, hook_registry = CollectorRegistry(), CollectorRegistry()
        metrics = OperatorMetrics(registry, options.metrics_prefix)
        hook_metrics = HookMetrics(hook_registry)
        g = discovery.global_
        state = RuntimeState(discovery, Schemas.load(g.config_schema, g.values_schema,
                                                     owner=GLOBAL_KEY),
                             [], options.stall_after)
        heartbeats = Heartbeats(HEARTBEAT_MAX_AGE)
        leadership = Leadership(options.leader)
        http = HttpServer(options.listen_address, options.listen_port, metrics=registry,
                          hook_metrics=hook_registry, heartbeats=heartbeats,
                          ready=lambda: leadership.ready(state.global_.status.converged))
        http.start()
        self.port = http.port
        kube = KubeClient.from_kubeconfig(options.kubeconfig, event_namespace=options.namespace)
        try:
            work = leadership.campaign(kube, heartbeats, stop)
            if work is None:
                return 0
            return self._serve(state, kube, metrics, hook_metrics, heartbeats, work)
        finally:
            leadership.resign(RELEASE_TIMEOUT)
            http.stop()
            kube.close()

    def _serve(self, state: RuntimeState, kube: KubeClient, metrics: OperatorMetrics,
               hook_metrics: HookMetrics, heartbeats: Heartbeats, stop: threading.Event) -> int:
        options = self.options
        options.tmp_dir.mkdir(parents=True, exist_ok=True)
        events = EventRecorder(kube)
        hooks = LifecycleHooks(state, tmp_dir=options.tmp_dir / "hooks",
                               timeout=options.hook_timeout, env=options.env, events=events,
                               metrics=metrics, hook_metrics=hook_metrics, patcher=kube)
        hooks.configure_global()
        helm = HelmClient(
            options.namespace, home=options.tmp_dir / "helm-home", binary=options.helm_binary,
            kubeconfig=options.kubeconfig, history_max=options.helm_history_max,
            timeout=options.helm_timeout, base_env=options.env,
            delete_release_record=lambda name, ns, rev: kube.delete(
                SECRETS, release_record_name(name, rev), namespace=ns, ignore_not_found=True),
        )
        try:
            log.info("helm %s (%s)", helm.version, options.helm_binary)
        except HelmError as exc:   # modules with a chart fail and say so in their status
            log.error("helm is not usable, modules with a chart will fail: %s", exc)
        queues = TaskQueues(QueueSettings(options.retry_initial_delay, options.retry_max_delay,
                                          options.stall_after), observer=QueueMetrics(metrics),
                            merge=merge_runs)
        writer = StatusWriter(kube, state)
        handlers = TaskHandlers(state, queues, writer, metrics)
        attempts = Attempts()
        pools = WorkerPools(queues, handlers.handle, handlers.finished, attempts=attempts,
                            stop=stop, heartbeats=heartbeats)
        bindings = BindingRuns(state, hooks, queues, ensure_queue=pools.ensure,
                               request=handlers.request, requeue=handlers.requeue,
                               sync_timeout=SYNC_TIMEOUT,
                               write_status=lambda rt: writer.global_config() if rt is None
                               else writer.module(rt))
        engine = HookBindings(kube, emit=bindings.emit, report=bindings.report,
                              spawn=heartbeats.start)
        bindings.attach(engine)
        hooks.use_snapshots(bindings.snapshots)
        handlers.wire(
            Converger(state, hooks, queues, bindings=bindings, attempts=attempts, stop=stop,
                      run_script=EnabledScriptRunner(options.tmp_dir / "enabled",
                                                     base_env=options.env),
                      metrics=metrics, writer=writer, request=handlers.request, helm=helm),
            ModuleRunner(state, hooks, helm, crds=ModuleCrds(kube, options.crd_extra_labels),
                         bindings=bindings, events=events, metrics=metrics,
                         work_dir=options.tmp_dir / "charts", requeue=handlers.requeue,
                         stop=stop, writer=writer),
            ModuleDeleter(state, hooks, helm, bindings=bindings, events=events, writer=writer),
            bindings,
        )
        controllers = Controllers(kube, state, writer, request=handlers.request, stop=stop,
                                  sleep=time.sleep, metrics=metrics,
                                  heartbeats=heartbeats)
        modules_rv, globals_rv = controllers.seed()
        handlers.request(Request(full=True, startup=True))
        writer.global_config()
        pools.ensure(MAIN, options.parallel + 1)
        controllers.start(modules_rv, globals_rv)
        monitor = ResourceMonitor(state, helm, kube, queues, heal=handlers.heal, events=events,
                                  metrics=metrics, namespace=options.namespace,
                                  interval=options.helm_monitor_interval, stop=stop,
                                  heartbeats=heartbeats)
        monitor.start()
        log.info("operator started: %d modules, namespace %s", len(state.discovery.modules),
                 options.namespace)
        self._tick(state, metrics, queues, heartbeats, writer, stop)
        log.info("stopping: waiting up to %gs for running tasks", SHUTDOWN_GRACE)
        queues.close()
        engine.stop()
        pools.join(SHUTDOWN_GRACE)
        controllers.join(5.0)
        monitor.join(5.0)
        return 0

    def _tick(self, state: RuntimeState, metrics: OperatorMetrics, queues: TaskQueues,
              heartbeats: Heartbeats, writer: StatusWriter, stop: threading.Event) -> None:
        """The main thread's loop until `stop`: liveness, queue metrics, the ready moment,
        and every `TICK_SECONDS` the retry of status writes the API refused."""
        ready = False
        last_tick = 0.0
        while not stop.wait(POLL_SECONDS):
            heartbeats.beat("main")
            if not ready and state.global_.status.converged:
                ready = True
                log.info("first converge done: ready")
                if self._on_ready is not None:
                    self._on_ready()
            now = time.monotonic()
            if now - last_tick >= TICK_SECONDS:
                last_tick = now
                metrics.live_ticks.inc()
                metrics.set_queue_lengths(queues.lengths())
                writer.retry_failed()


class Leadership:
    """This replica's part in leader election (`ADDON_OPERATOR_HA`; without it, a replica that
    always works). The elector runs in its own thread from `campaign` until `resign`, so the
    Lease is handed back only after the work has stopped."""

    def __init__(self, settings: LeaderSettings) -> None:
        self.settings = settings
        self._leading = threading.Event()
        self._resigned = threading.Event()
        self._thread: threading.Thread | None = None

    def ready(self, converged: bool) -> bool:
        """`/readyz`: the first converge is done, or this is a follower (leader election on,
        not leading): followers are healthy standbys, only the leader converges."""
        return converged or (self.settings.enabled and not self._leading.is_set())

    def campaign(self, client: LeaseClient, heartbeats: Heartbeats,
                 stop: threading.Event) -> threading.Event | None:
        """The event that ends the work: `stop` itself without leader election; else, once
        this replica leads, an event set when `stop` is or leadership is lost. None when
        stopped (or the election ended) before leading."""
        if not self.settings.enabled:
            return stop
        work = threading.Event()
        elector = LeaderElector.from_settings(client, self.settings,
                                              on_started_leading=self._leading.set,
                                              on_stopped_leading=work.set)

        def elect() -> None:
            if elector.run(self._resigned):
                log.warning("leadership lost: stopping the work (the process should restart)")
            work.set()

        self._thread = threading.Thread(target=elect, name="leader-election", daemon=True)
        self._thread.start()
        log.info("waiting to lead as %s", elector.identity)
        while not self._leading.is_set():
            heartbeats.beat("main")
            if stop.wait(POLL_SECONDS) or work.is_set():
                return None
        log.info("leading: starting the work")
        threading.Thread(target=_forward, args=(stop, work), name="stop-forward",
                         daemon=True).start()
        return work

    def resign(self, timeout: float) -> None:
        """End the election; a leader hands the Lease back (waits up to `timeout` seconds)."""
        self._resigned.set()
        if self._thread is None:
            return
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("leader election: the lease was not handed back within %gs", timeout)


def _forward(source: threading.Event, target: threading.Event) -> None:
    """Set `target` once `source` is set; ends as soon as either is."""
    while not target.wait(POLL_SECONDS):
        if source.is_set():
            target.set()
