"""`SandboxServer`: the sandbox Kubernetes API server as an object tests and commands start.

Tests use it in-process (`with SandboxServer() as server: ...`), `python -m kube_sandbox` and
`addon-operator sandbox` run it as a command. It binds 127.0.0.1 (other addresses only with
`allow_remote=True`), writes a kubeconfig pointing at itself, optionally installs CRDs from
directories and persists its state to a JSON file.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
import yaml

from . import errors
from .api import APPLY_PATCH, Api, Admit, Clock, WriteOptions, utc_now
from .faults import Faults
from .handler import SandboxHttpServer
from .kubeconfig import write_kubeconfig
from .persist import Persister, load_state
from .resources import Registry
from .router import Router
from .schema import admit as schema_admit
from .store import Store

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
CRD_MANAGER = "kube-sandbox"


class SandboxServer:
    """A local Kubernetes API server (see the package docstring for what it serves)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        kubeconfig_path: Path | str | None = None,
        state_path: Path | str | None = None,
        crd_dirs: Iterable[Path | str] = (),
        history_size: int = 10_000,
        bookmark_interval: float = 10.0,
        allow_remote: bool = False,
        clock: Clock = utc_now,
        admit: Admit = schema_admit,
    ) -> None:
        if host not in LOCAL_HOSTS and not allow_remote:
            raise ValueError(f"refusing to listen on {host!r}: the sandbox has no authentication; "
                             "pass allow_remote=True to listen on a non-loopback address")
        self.host = host
        self.requested_port = port
        self.kubeconfig_path = Path(kubeconfig_path) if kubeconfig_path else None
        self.state_path = Path(state_path) if state_path else None
        self.store = Store(history_size)
        self.registry = Registry.with_builtins()
        self.api = Api(self.store, self.registry, admit, clock=clock)
        self.faults = Faults(self.store)
        self._stopping = threading.Event()
        self.router = Router(self.api, self.faults, stopping=self._stopping, bookmark_interval=bookmark_interval)
        if self.state_path is not None:
            load_state(self.state_path, self.store)
        self.api.bootstrap()
        for directory in crd_dirs:
            self.install_crds(Path(directory))
        self._httpd: SandboxHttpServer | None = None
        self._thread: threading.Thread | None = None
        self._persister = Persister(self.state_path, self.store) if self.state_path is not None else None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "SandboxServer":
        self._httpd = SandboxHttpServer((self.host, self.requested_port), self.router)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="sandbox-http", daemon=True
        )
        self._thread.start()
        if self.kubeconfig_path is not None:
            write_kubeconfig(self.kubeconfig_path, self.url)
        if self._persister is not None:
            self._persister.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.faults.resume()
        with self.store.changed:
            self.store.changed.notify_all()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._persister is not None:
            self._persister.stop()
            self._persister = None

    def __enter__(self) -> "SandboxServer":
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the sandbox server is not running")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # --- conveniences for tests and commands -------------------------------------------------

    def install_crds(self, directory: Path) -> list[str]:
        """Create or update every CustomResourceDefinition in `directory`'s YAML/JSON files."""
        installed = []
        crd_type = self.registry.lookup("apiextensions.k8s.io", "v1", "customresourcedefinitions")
        assert crd_type is not None, "the CRD kind is always served"
        for path in sorted(directory.iterdir()):
            if path.suffix not in (".yaml", ".yml", ".json"):
                continue
            for document in yaml.safe_load_all(path.read_text()):
                if not isinstance(document, dict) or document.get("kind") != "CustomResourceDefinition":
                    continue
                name = (document.get("metadata") or {}).get("name", "")
                try:
                    self.api.patch(crd_type, "", name, APPLY_PATCH, document, WriteOptions(field_manager=CRD_MANAGER))
                except errors.ApiError as exc:
                    raise ValueError(f"{path}: CustomResourceDefinition {name!r} was refused: {exc.message}") from exc
                installed.append(name)
        return installed
