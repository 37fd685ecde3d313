"""kube_sandbox: a local Kubernetes API server that kubectl, helm and the Python client use as is.

It exists because end-to-end tests and `addon-operator sandbox` need "a cluster" on machines
without Docker. Tests start `SandboxServer` in-process; `python -m kube_sandbox` runs it alone.
The operator package never imports it.
"""

from .server import SandboxServer

__all__ = ["SandboxServer"]
