"""Persisting the store to a JSON file so a sandbox survives a restart (`--state FILE`).

`SandboxServer` loads the file before serving and starts a `Persister`, which the store notifies
on every write; a background thread writes the file (atomically, at most every `interval`
seconds) and `stop()` writes the final state. History is not persisted: after a restart a watch
from an older resourceVersion gets 410 Gone, as after an API server's etcd compaction.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from .store import Store


def load_state(path: Path, store: Store) -> bool:
    """Restore `store` from `path`; False when there is no file yet."""
    if not path.exists():
        return False
    try:
        state = json.loads(path.read_text())
    except ValueError as exc:
        raise ValueError(f"sandbox state file {path} is not valid JSON: {exc}") from exc
    store.restore(state)
    return True


def save_state(path: Path, store: Store) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(store.dump(), separators=(",", ":")))
    temporary.replace(path)


class Persister:
    """Writes the state file after changes, from one background thread."""

    def __init__(self, path: Path, store: Store, interval: float = 0.2) -> None:
        self.path = path
        self.store = store
        self.interval = interval
        self._dirty = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-persist", daemon=True)

    def start(self) -> None:
        self.store.listeners.append(self._dirty.set)
        self._dirty.set()  # what bootstrap and CRD installation wrote before serving
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._dirty.set()
        self._thread.join()
        save_state(self.path, self.store)

    def _run(self) -> None:
        while not self._stopped.is_set():
            self._dirty.wait()
            if self._stopped.is_set():
                return
            self._dirty.clear()
            save_state(self.path, self.store)
            self._stopped.wait(self.interval)
