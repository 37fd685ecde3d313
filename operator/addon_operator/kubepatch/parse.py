"""Reading the `$KUBERNETES_PATCH_PATH` file into validated operations.

Called by the hook-run code after a successful hook run. As in shell-operator, the text is first
read as a JSON stream (objects one after another, any whitespace between them; what hooks get by
appending `jq -c` output with `>>`), and when that fails as multi-document YAML (`---`). Empty
YAML documents are skipped; an empty file holds no operations. Every document is validated
before any is applied (`apply.py`), so one malformed operation changes nothing.
"""

from __future__ import annotations

from typing import Any

import yaml

from addon_operator.jsonstream import documents
from addon_operator.kubepatch.operations import KubePatchError, Operation, validate
from addon_operator.yamlload import JsonCompatibleLoader


def parse_operations(text: str) -> list[Operation]:
    """The validated operations of the stream, in file order."""
    return [validate(document, number)
            for number, document in enumerate(parse_documents(text), start=1)]


def parse_documents(text: str) -> list[Any]:
    """The documents of a JSON stream or, failing that, of a multi-document YAML text."""
    if not text.strip():
        return []
    try:
        return [document.value for document in documents(text)]
    except ValueError as json_error:
        try:
            return [document for document in yaml.load_all(text, Loader=JsonCompatibleLoader)
                    if document is not None]
        except yaml.YAMLError as yaml_error:
            raise KubePatchError(
                f"the operations are neither a JSON stream ({json_error}) nor multi-document "
                f"YAML ({' '.join(str(yaml_error).split())})") from yaml_error
