"""CustomResourceDefinition handling: validation, defaulting, status and the resources it serves.

`Api` (api.py) calls these when a CRD is written; the registry then serves every `served` version
under `/apis/<group>/<version>/<plural>` with the version's schema and printer columns. The status
is set at once (NamesAccepted and Established True), so `kubectl wait --for=condition=Established`
returns immediately, as on a real cluster a moment after creation.
"""

from __future__ import annotations

import re
from typing import Any

from .resources import ResourceType

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def defaulted(crd: dict[str, Any]) -> dict[str, Any]:
    """`spec.names.singular`/`listKind` and `spec.conversion` defaulted as the API server does."""
    spec = dict(crd.get("spec") or {})
    names = dict(spec.get("names") or {})
    if names.get("kind"):
        names.setdefault("singular", names["kind"].lower())
        names.setdefault("listKind", f"{names['kind']}List")
    spec["names"] = names
    spec.setdefault("conversion", {"strategy": "None"})
    return {**crd, "spec": spec}


def validate(crd: dict[str, Any]) -> list[str]:
    """API-server-style error strings for a CRD (empty when it can be served)."""
    errors: list[str] = []
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group") or ""
    if not group or "." not in group:
        errors.append(f'spec.group: Invalid value: "{group}": should be a domain with at least one dot')
    for field in ("plural", "kind"):
        if not names.get(field):
            errors.append(f"spec.names.{field}: Required value")
    if names.get("plural") and not _DNS_LABEL.fullmatch(names["plural"]):
        errors.append(
            f'spec.names.plural: Invalid value: "{names["plural"]}": a lowercase RFC 1123 label is required'
        )
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        errors.append(
            f'spec.scope: Unsupported value: "{spec.get("scope")}": supported values: "Cluster", "Namespaced"'
        )
    versions = spec.get("versions") or []
    if not versions:
        errors.append("spec.versions: Invalid value: null: must have exactly one version marked as storage version")
    elif sum(1 for v in versions if v.get("storage")) != 1:
        errors.append("spec.versions: Invalid value: must have exactly one version marked as storage version")
    expected = f"{names.get('plural')}.{group}"
    name = (crd.get("metadata") or {}).get("name")
    if names.get("plural") and group and name != expected:
        errors.append(f'metadata.name: Invalid value: "{name}": must be spec.names.plural+"."+spec.group')
    return errors


def status_for(crd: dict[str, Any], now: str) -> dict[str, Any]:
    """The status the API server's controllers converge a valid CRD to."""
    spec = crd["spec"]
    names = spec["names"]
    previous = {c.get("type"): c for c in (crd.get("status") or {}).get("conditions") or []}

    def condition(kind: str, reason: str, message: str) -> dict[str, Any]:
        since = previous.get(kind, {}).get("lastTransitionTime", now)
        return {"type": kind, "status": "True", "lastTransitionTime": since, "reason": reason, "message": message}

    fields = ("plural", "singular", "kind", "listKind", "shortNames", "categories")
    accepted = {k: names[k] for k in fields if names.get(k)}
    storage = next(v["name"] for v in spec["versions"] if v.get("storage"))
    stored = list((crd.get("status") or {}).get("storedVersions") or [])
    return {
        "conditions": [
            condition("NamesAccepted", "NoConflicts", "no conflicts found"),
            condition("Established", "InitialNamesAccepted", "the initial names have been accepted"),
        ],
        "acceptedNames": accepted,
        "storedVersions": stored if storage in stored else stored + [storage],
    }


def resource_types(crd: dict[str, Any]) -> list[ResourceType]:
    """One `ResourceType` per served version of a (validated, defaulted) CRD."""
    spec = crd["spec"]
    names = spec["names"]
    storage = next(v["name"] for v in spec["versions"] if v.get("storage"))
    types = []
    for version in spec["versions"]:
        if not version.get("served", True):
            continue
        has_status = "status" in (version.get("subresources") or {})
        types.append(
            ResourceType(
                group=spec["group"],
                version=version["name"],
                kind=names["kind"],
                plural=names["plural"],
                singular=names.get("singular", ""),
                namespaced=spec["scope"] == "Namespaced",
                short_names=tuple(names.get("shortNames") or ()),
                categories=tuple(names.get("categories") or ()),
                status_subresource=has_status,
                tracks_generation=True,
                unconditional_update=False,
                returns_deleted_object=True,
                custom=True,
                schema=(version.get("schema") or {}).get("openAPIV3Schema"),
                printer_columns=version.get("additionalPrinterColumns"),
                storage_version=storage,
            )
        )
    return types
