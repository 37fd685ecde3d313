"""Static checks of the install manifests (no cluster here; the image is checked by
test_dockerfile.py).

`kubectl kustomize deploy/` must build, and the built objects are checked for probes, security
context, the metrics Service and — derived from the operator's code, not listed by hand — RBAC
for every Kubernetes API call the operator makes: the `KubeClient` methods are read to learn
which HTTP verb each one sends, every call of them with a `Resource` constant anywhere in the
package is found, and the helm adapter's storage driver adds its Secrets.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from addon_operator.helm.client import SECRET_DRIVERS, HelmClient
from addon_operator.kube.resources import Resource
from addon_operator.runner import run

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "operator" / "addon_operator"
KUBE_CLIENT = PACKAGE / "kube" / "client.py"
DEPLOY = ROOT / "deploy"
NAMESPACE = "addon-operator"
SERVICE_ACCOUNT = "addon-operator"
MODULES_ROLE = "addon-operator-modules"
METRICS_PORT = 9650

# ---- the manifests -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built() -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is not on PATH: run scripts/install-tools.sh"
    assert (ROOT / "crds" / "Kustomization").is_file(), \
        "deploy/kustomization.yaml includes the directory ../crds, which needs a " \
        "crds/Kustomization listing the CRD files (no .yaml extension: `kubectl apply -f crds/` " \
        "must not read it)"
    result = run([kubectl, "kustomize", str(DEPLOY)], timeout=60)
    assert result.ok, f"kubectl kustomize deploy/ failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def source_manifests() -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted(DEPLOY.rglob("*.yaml")):
        if path.relative_to(DEPLOY).parts[0] in ("argocd", "examples"):
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                yield path, doc


def test_every_manifest_is_a_named_object_in_the_operator_namespace():
    seen = 0
    for path, doc in source_manifests():
        if doc.get("kind") == "Kustomization":
            continue
        seen += 1
        where = f"{path.relative_to(ROOT)}: {doc.get('kind')}"
        assert doc.get("apiVersion") and doc.get("kind"), f"{where}: apiVersion/kind missing"
        assert doc.get("metadata", {}).get("name"), f"{where}: metadata.name missing"
        cluster_scoped = doc["kind"] in ("Namespace", "ClusterRole", "ClusterRoleBinding")
        assert (doc["metadata"].get("namespace") is None) == cluster_scoped, \
            f"{where}: namespaced objects go to {NAMESPACE}, cluster-scoped ones have none"
        if not cluster_scoped:
            assert doc["metadata"]["namespace"] == NAMESPACE, where
    assert seen >= 7


def test_kustomization_installs_the_crds_but_not_the_service_monitor(built):
    crds = {o["metadata"]["name"] for o in built if o["kind"] == "CustomResourceDefinition"}
    on_disk = {yaml.safe_load(p.read_text())["metadata"]["name"]
               for p in (ROOT / "crds").glob("*.yaml")}
    assert crds == on_disk
    assert not [o for o in built if o["kind"] == "ServiceMonitor"]
    monitor = yaml.safe_load((DEPLOY / "optional" / "servicemonitor.yaml").read_text())
    assert {e["path"] for e in monitor["spec"]["endpoints"]} == {"/metrics", "/metrics/hooks"}
    assert {e["port"] for e in monitor["spec"]["endpoints"]} == {"http-metrics"}


def container(built: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    pod = find(built, "Deployment", "addon-operator")["spec"]["template"]["spec"]
    return pod, pod["containers"][0]


def test_deployment_probes_ports_and_resources(built):
    deployment = find(built, "Deployment", "addon-operator")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    pod, main = container(built)
    assert pod["serviceAccountName"] == SERVICE_ACCOUNT
    ports = {p["name"]: p["containerPort"] for p in main["ports"]}
    assert ports == {"http-metrics": METRICS_PORT}
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        get = main[probe]["httpGet"]
        assert get["path"] == path and ports.get(get["port"], get["port"]) == METRICS_PORT
    for bound in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(main["resources"][bound]), f"resources.{bound}"


def test_deployment_security_context_and_writable_tmp(built):
    pod, main = container(built)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    ctx = main["securityContext"]
    assert ctx["readOnlyRootFilesystem"] is True
    assert ctx["allowPrivilegeEscalation"] is False
    assert ctx["capabilities"]["drop"] == ["ALL"]
    assert ctx["runAsNonRoot"] is True
    assert ctx["seccompProfile"]["type"] == "RuntimeDefault"
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in main["volumeMounts"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]


def test_deployment_env_and_image(built):
    _, main = container(built)
    env = {e["name"]: e for e in main["env"]}
    namespace = env["ADDON_OPERATOR_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"]
    assert namespace == "metadata.namespace"
    assert main["args"] == ["run"]
    tag = re.search(r'^version = "(.+)"$', (ROOT / "pyproject.toml").read_text(), re.M)
    assert tag and main["image"] == f"addon-operator:{tag.group(1)}"


def test_metrics_service_selects_the_operator_pod(built):
    service = find(built, "Service", "addon-operator")
    labels = find(built, "Deployment", "addon-operator")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"] == [{"name": "http-metrics", "port": METRICS_PORT,
                                         "targetPort": "http-metrics", "protocol": "TCP"}]


def test_bindings_point_at_existing_roles_and_the_service_account(built):
    find(built, "ServiceAccount", SERVICE_ACCOUNT)
    for binding in (o for o in built if o["kind"] in ("RoleBinding", "ClusterRoleBinding")):
        ref = binding["roleRef"]
        find(built, ref["kind"], ref["name"])
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT,
                                        "namespace": NAMESPACE}]


def test_the_modules_role_is_separate_and_documented(built):
    find(built, "ClusterRoleBinding", MODULES_ROLE)
    text = (DEPLOY / "rbac-modules.yaml").read_text()
    assert "kind: ClusterRole" in text and f"name: {MODULES_ROLE}" in text
    assert "NARROW IT" in text
    for path, doc in source_manifests():
        if doc.get("kind") in ("Role", "ClusterRole") and doc["metadata"]["name"] != MODULES_ROLE:
            for rule in doc["rules"]:
                assert "*" not in rule["verbs"] + rule["resources"], \
                    f"{path.name}: {doc['kind']}/{doc['metadata']['name']}: the operator's " \
                    f"own roles spell out resources and verbs: {rule}"


# ---- RBAC derived from the code ------------------------------------------------------------

HTTP_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
# helm's release storage (`helm` reads, lists, writes and deletes release records).
HELM_STORAGE = {"secret": ("", "secrets"), "configmap": ("", "configmaps")}
HELM_STORAGE_VERBS = ("get", "list", "create", "update", "delete")


def _self_calls(node: ast.AST) -> Iterator[ast.Call]:
    for call in ast.walk(node):
        if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                and isinstance(call.func.value, ast.Name) and call.func.value.id == "self"):
            yield call


def _requests(method: ast.FunctionDef) -> Iterator[tuple[ast.expr, str, str]]:
    """(the Resource expression, subresource, RBAC verb) of each request a method sends."""
    watches = any(isinstance(t, ast.Tuple) and [getattr(e, "value", None) for e in t.elts]
                  == ["watch", "true"] for t in ast.walk(method))
    for call in _self_calls(method):
        if call.func.attr not in ("_call", "_send") or len(call.args) < 2:
            continue
        http, path = call.args[0], call.args[1]
        if not (isinstance(path, ast.Call) and isinstance(path.func, ast.Attribute)
                and path.func.attr == "path"):
            continue  # discovery: non-resource URLs every authenticated user may read
        sub = next((k.value.value for k in path.keywords if k.arg == "subresource"
                    and isinstance(k.value, ast.Constant)), "")
        if http.value == "GET":
            verb = "watch" if watches else ("get" if path.args else "list")
        else:
            verb = HTTP_VERBS[http.value]
        yield path.func.value, sub, verb


def kube_client_methods() -> dict[str, ast.FunctionDef]:
    tree = ast.parse(KUBE_CLIENT.read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "KubeClient")
    return {m.name: m for m in cls.body if isinstance(m, ast.FunctionDef)}


def kube_client_verbs() -> dict[str, set[tuple[str, str]]]:
    """Every `KubeClient` method taking a resource -> the (subresource, verb)s it needs,
    following its calls of other methods on the same resource."""
    methods = kube_client_methods()

    def needs(name: str, seen: frozenset[str] = frozenset()) -> set[tuple[str, str]]:
        method = methods[name]
        params = {a.arg for a in method.args.args}
        out = {(sub, verb) for target, sub, verb in _requests(method)
               if isinstance(target, ast.Name) and target.id in params}
        for call in _self_calls(method):
            callee = call.func.attr
            if (callee in methods and callee not in seen and call.args
                    and isinstance(call.args[0], ast.Name) and call.args[0].id in params):
                out |= needs(callee, seen | {name})
        return out

    return {name: needs(name) for name, m in methods.items()
            if m.args.args[1:2] and m.args.args[1].arg == "resource"}


def _resolve(module: Any, node: ast.expr) -> Any:
    """The value of a constant expression in `module`'s namespace: `NAME`, `mod.NAME`, or
    `Resource(...)` with literal arguments; None for anything computed at run time."""
    if isinstance(node, ast.Name):
        return getattr(module, node.id, None)
    if isinstance(node, ast.Attribute):
        return getattr(_resolve(module, node.value), node.attr, None)
    if isinstance(node, ast.Call) and _resolve(module, node.func) is Resource:
        try:
            return Resource(*(ast.literal_eval(a) for a in node.args),
                            **{k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg})
        except (ValueError, TypeError):
            return None
    return None


def package_modules() -> Iterator[tuple[Any, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "__main__.py":
            continue  # importing it would run the CLI
        dotted = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        yield importlib.import_module(dotted.removesuffix(".__init__")), ast.parse(path.read_text())


def api_calls() -> set[tuple[Resource, str, str]]:
    """(resource, subresource, verb) of every API request made on a fixed resource: KubeClient
    calls with a resource constant anywhere in the package, and requests KubeClient sends on a
    constant itself."""
    verbs = kube_client_verbs()
    found = set()
    for module, tree in package_modules():
        for call in ast.walk(tree):
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                    and call.func.attr in verbs):
                continue
            arg = call.args[0] if call.args else next(
                (k.value for k in call.keywords if k.arg == "resource"), None)
            resource = _resolve(module, arg) if arg is not None else None
            if isinstance(resource, Resource):
                found |= {(resource, sub, verb) for sub, verb in verbs[call.func.attr]}
    client_module = importlib.import_module("addon_operator.kube.client")
    for method in kube_client_methods().values():
        for target, sub, verb in _requests(method):
            resource = _resolve(client_module, target)
            if isinstance(resource, Resource):
                found.add((resource, sub, verb))
    return found


def helm_storage_needs() -> set[tuple[str, str, str]]:
    driver = inspect.signature(HelmClient.__init__).parameters["driver"].default
    kind = "secret" if driver in SECRET_DRIVERS else driver.rstrip("s")
    if kind not in HELM_STORAGE:
        return set()
    group, plural = HELM_STORAGE[kind]
    return {(group, plural, verb) for verb in HELM_STORAGE_VERBS}


def operator_rules(built: list[dict[str, Any]]) -> tuple[list[dict], list[dict]]:
    """Rules of the cluster roles and of the namespaced roles bound to the operator, without
    the modules' role: the operator must work when users narrow that one."""
    cluster, namespaced = [], []
    for binding in (o for o in built if o["kind"] in ("RoleBinding", "ClusterRoleBinding")):
        ref = binding["roleRef"]
        if ref["name"] == MODULES_ROLE:
            continue
        rules = find(built, ref["kind"], ref["name"])["rules"]
        (cluster if binding["kind"] == "ClusterRoleBinding" else namespaced).extend(rules)
    return cluster, namespaced


def allowed(rules: list[dict], group: str, resource: str, verb: str) -> bool:
    return any(group in r["apiGroups"] and resource in r["resources"] and verb in r["verbs"]
               for r in rules)


def test_kube_client_methods_are_mapped_to_verbs():
    verbs = kube_client_verbs()
    assert verbs["get"] == {("", "get")} and verbs["list"] == {("", "list")}
    assert verbs["watch"] == {("", "list"), ("", "watch")}
    assert verbs["patch_status"] == {("status", "patch")}
    assert verbs["create"] == {("", "create")} and verbs["delete"] == {("", "delete")}


def test_rbac_covers_every_api_call_the_operator_makes(built):
    calls = api_calls()
    assert any(r.plural == "events" and verb == "create" for r, _, verb in calls), \
        "the scan found no Event creation: it no longer sees the operator's API calls"
    cluster, namespaced = operator_rules(built)
    missing = []
    for resource, sub, verb in sorted(calls, key=repr):
        name = f"{resource.plural}/{sub}" if sub else resource.plural
        rules = cluster + namespaced if resource.namespaced else cluster
        if not allowed(rules, resource.group, name, verb):
            missing.append(f"{verb} {name} (apiGroup {resource.group!r})")
    for group, plural, verb in sorted(helm_storage_needs()):
        if not allowed(namespaced + cluster, group, plural, verb):
            missing.append(f"{verb} {plural} (helm release storage)")
    assert not missing, "deploy/rbac-operator.yaml lacks: " + "; ".join(missing)


def test_rbac_grants_the_operators_documented_needs(built):
    cluster, namespaced = operator_rules(built)
    group = "addon-operator.io"
    for plural in ("modules", "globalconfigs"):
        for verb in ("get", "list", "watch", "create"):
            assert allowed(cluster, group, plural, verb), f"{verb} {plural}"
        for verb in ("get", "update", "patch"):
            assert allowed(cluster, group, f"{plural}/status", verb), f"{verb} {plural}/status"
    for events_group in ("", "events.k8s.io"):
        assert allowed(cluster, events_group, "events", "create")
        assert allowed(cluster, events_group, "events", "patch")
    for verb in ("get", "list", "watch"):
        assert allowed(cluster, "apiextensions.k8s.io", "customresourcedefinitions", verb)
    for verb in ("get", "create", "update"):
        assert allowed(namespaced, "coordination.k8s.io", "leases", verb), f"{verb} leases"
