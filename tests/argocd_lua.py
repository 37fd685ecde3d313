"""The Argo CD health check (`deploy/argocd/health.lua`) run the way Argo CD runs it, for tests.

Argo CD runs health scripts with gopher-lua (Lua 5.1) and, without `useOpenLibs`, only the base
functions and `table`; `Health` gives the script exactly that environment through `lupa`, with
the object as the global `obj`. Used by tests/unit/test_argocd_health.py (the Argo CD test cases
and statuses built in-process) and tests/e2e/test_health_readings.py (statuses of real runs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lupa import lua51

SCRIPT = Path(__file__).resolve().parent.parent / "deploy" / "argocd" / "health.lua"

_RUN = """
function(script, obj)
  local env = {
    obj = obj, assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs,
    pcall = pcall, select = select, tonumber = tonumber, tostring = tostring, type = type,
    table = table,
  }
  local chunk, err = loadstring(script, "health.lua")
  if chunk == nil then error(err) end
  setfenv(chunk, env)
  return chunk()
end
"""


class Health:
    """health.lua loaded in a fresh Lua runtime; call it with a Kubernetes object (a dict)."""

    def __init__(self, script: str) -> None:
        self._lua = lua51.LuaRuntime()
        self._script = script
        self._run = self._lua.eval(_RUN)

    def __call__(self, obj: dict[str, Any]) -> dict[str, str]:
        hs = self._run(self._script, self._table(obj))
        return {"status": hs["status"], "message": hs["message"]}

    def _table(self, value: Any) -> Any:
        """JSON-shaped Python data as Lua values: objects and 1-based arrays become tables."""
        if isinstance(value, dict):
            table = self._lua.table()
            for key, item in value.items():
                if item is not None:
                    table[key] = self._table(item)
            return table
        if isinstance(value, list):
            table = self._lua.table()
            for index, item in enumerate(value, start=1):
                table[index] = self._table(item)
            return table
        return value
