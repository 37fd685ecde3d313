"""A module's `crds/` applied before its first run: the Widget CRD exists with the
`heritage=addon-operator` label while the `doc-` file is skipped, the module's chart creates a
Widget in the same run (Helm itself skips CRDs), and an edited CRD file is applied again after a
restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from e2e_support import Cluster

pytestmark = [pytest.mark.e2e,
              pytest.mark.sandbox_only(reason="the module is written to a local directory "
                                              "and edited between two operator runs")]

GROUP = "e2e.example.com"
WIDGETS = f"widgets.{GROUP}"
SKIPPED = f"skips.{GROUP}"
CRD_API = ("apiextensions.k8s.io", "v1", "customresourcedefinitions")


def crd_manifest(plural: str, kind: str, short_names: list[str]) -> str:
    return f"""apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {plural}.{GROUP}
spec:
  group: {GROUP}
  scope: Namespaced
  names:
    plural: {plural}
    singular: {kind.lower()}
    kind: {kind}
    shortNames: {short_names}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size:
                  type: integer
"""


def write_module(modules_dir: Path) -> Path:
    module = modules_dir / "010-widgets"
    (module / "crds").mkdir(parents=True)
    (module / "templates").mkdir()
    (module / "values.yaml").write_text("widgetsEnabled: true\nwidgets:\n  size: 3\n")
    (module / "crds" / "widget.yaml").write_text(crd_manifest("widgets", "Widget", ["wd"]))
    (module / "crds" / "doc-skip.yaml").write_text(crd_manifest("skips", "Skip", []))
    (module / "templates" / "widget.yaml").write_text(
        f"apiVersion: {GROUP}/v1\nkind: Widget\nmetadata:\n  name: first\n"
        "spec:\n  size: {{ .Values.widgets.size }}\n")
    return module


def crd(cluster: Cluster, name: str) -> dict:
    return cluster.custom.get_cluster_custom_object(*CRD_API, name)


def crd_names(cluster: Cluster) -> set[str]:
    return {c["metadata"]["name"] for c in cluster.custom.list_cluster_custom_object(
        *CRD_API)["items"]}


def test_module_crds_are_applied_before_its_first_run(cluster: Cluster) -> None:
    modules_dir = cluster.tmp / "crd-modules"
    module = write_module(modules_dir)
    operator = cluster.operator(modules_dir=modules_dir, global_hooks_dir=None)
    operator.wait_ready()
    cluster.wait("widgets Ready", lambda: cluster.module("widgets")["status"]["phase"] == "Ready")

    widgets = crd(cluster, WIDGETS)
    assert widgets["metadata"]["labels"] == {"heritage": "addon-operator"}
    assert widgets["spec"]["names"]["shortNames"] == ["wd"]
    assert SKIPPED not in crd_names(cluster), "doc- files are not applied"
    widget = cluster.custom.get_namespaced_custom_object(GROUP, "v1", cluster.namespace,
                                                         "widgets", "first")
    assert widget["spec"] == {"size": 3}
    assert cluster.module("widgets")["status"]["release"]["revision"] == 1

    assert operator.stop() == 0
    (module / "crds" / "widget.yaml").write_text(
        crd_manifest("widgets", "Widget", ["wd", "wdg"]))
    operator.start().wait_ready()
    cluster.wait("the edited CRD applied again", lambda: crd(cluster, WIDGETS)["spec"]["names"]
                 .get("shortNames") == ["wd", "wdg"])
    assert crd(cluster, WIDGETS)["metadata"]["labels"] == {"heritage": "addon-operator"}
    assert "wdg" in cluster.kubectl("api-resources", "--api-group", GROUP)
