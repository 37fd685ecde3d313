"""YAML reading shared by discovery, manifests and commands.

One loader for every YAML document the operator reads (values files, schemas, manifests), so all
of them agree: safe loading, and dates kept as strings the way JSON-compatible YAML (and upstream,
which converts YAML to JSON) treats them.
"""

from __future__ import annotations

from typing import Any

import yaml


class JsonCompatibleLoader(yaml.SafeLoader):
    """SafeLoader that keeps dates as strings."""


JsonCompatibleLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def describe_type(value: Any) -> str:
    """`value`'s JSON type for messages: "an object", "an integer", "null", ..."""
    names = {
        dict: "an object", list: "a list", str: "a string", bool: "a boolean",
        int: "an integer", float: "a number", type(None): "null",
    }
    return names.get(type(value), f"a {type(value).__name__}")
