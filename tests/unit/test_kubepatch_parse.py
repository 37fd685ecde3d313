"""Reading and validating `$KUBERNETES_PATCH_PATH` streams: JSON streams, multi-document YAML,
every operation's required keys, string forms, and errors that name the operation and key."""

from __future__ import annotations

import json

import pytest

from addon_operator.kubepatch import (
    Create, Delete, JQPatch, JSONPatch, KubePatchError, MergePatch, Target, parse_documents,
    parse_operations,
)

CM = {"apiVersion": "v1", "kind": "ConfigMap",
      "metadata": {"name": "cm", "namespace": "ns"}, "data": {"a": "1"}}


def stream(*documents: dict) -> str:
    return "\n".join(json.dumps(document) for document in documents)


def error_of(text: str) -> str:
    with pytest.raises(KubePatchError) as caught:
        parse_operations(text)
    return str(caught.value)


def test_empty_file_means_no_operations() -> None:
    assert parse_operations("") == []
    assert parse_operations(" \n\t\n") == []


def test_json_stream_without_separators_and_with_newlines() -> None:
    assert parse_documents('{"a":1}{"b":2}\n\n  {"c":3}\n') == [{"a": 1}, {"b": 2}, {"c": 3}]


def test_multi_document_yaml_skips_empty_documents() -> None:
    text = "---\noperation: Delete\nkind: Pod\nname: a\n---\n---\n" \
           "operation: DeleteInBackground\nkind: Pod\nname: b\nnamespace: x\n"
    operations = parse_operations(text)
    assert [op.operation for op in operations] == ["Delete", "DeleteInBackground"]
    assert [op.number for op in operations] == [1, 2]
    assert operations[1].target == Target("", "Pod", "x", "b")


def test_unparsable_text_names_both_formats() -> None:
    message = error_of('{"operation": "Create"')
    assert "neither a JSON stream" in message and "multi-document YAML" in message


def test_create_family_takes_the_target_from_the_object() -> None:
    operations = parse_operations(stream(
        {"operation": "Create", "object": CM},
        {"operation": "CreateIfNotExists", "object": json.dumps(CM)},
        {"operation": "CreateOrUpdate", "object": "apiVersion: v1\nkind: Namespace\n"
                                                  "metadata: {name: team}\n"},
    ))
    assert all(isinstance(op, Create) for op in operations)
    assert operations[0].target == Target("v1", "ConfigMap", "ns", "cm")
    assert operations[1].object == CM  # a JSON string is decoded
    assert operations[2].target == Target("v1", "Namespace", "", "team")
    assert operations[2].label == "operation 3 (CreateOrUpdate Namespace team)"


def test_create_accepts_generate_name_but_create_or_update_needs_a_name() -> None:
    generated = {"apiVersion": "v1", "kind": "ConfigMap",
                 "metadata": {"generateName": "cm-", "namespace": "ns"}}
    (operation,) = parse_operations(stream({"operation": "Create", "object": generated}))
    assert operation.target.name == "cm-*"
    message = error_of(stream({"operation": "CreateOrUpdate", "object": generated}))
    assert message.startswith("operation 1 (CreateOrUpdate): key 'object.metadata.name'")


@pytest.mark.parametrize("obj, key", [
    ({"kind": "ConfigMap", "metadata": {"name": "x"}}, "object.apiVersion"),
    ({"apiVersion": "v1", "metadata": {"name": "x"}}, "object.kind"),
    ({"apiVersion": "v1", "kind": "ConfigMap"}, "object.metadata"),
    ("- a list", "object"),
])
def test_create_object_problems_name_the_key(obj: object, key: str) -> None:
    assert f"key '{key}'" in error_of(stream({"operation": "Create", "object": obj}))


def test_delete_family_maps_to_propagation_policies() -> None:
    operations = parse_operations(stream(
        {"operation": "Delete", "kind": "ConfigMap", "namespace": "ns", "name": "a"},
        {"operation": "DeleteInBackground", "apiVersion": "apps/v1", "kind": "Deployment",
         "namespace": "ns", "name": "b"},
        {"operation": "DeleteNonCascading", "kind": "Namespace", "name": "c",
         "subresource": "status"},  # accepted and ignored, as upstream
    ))
    assert all(isinstance(op, Delete) for op in operations)
    assert [op.propagation_policy for op in operations] == ["Foreground", "Background", "Orphan"]
    assert operations[1].target == Target("apps/v1", "Deployment", "ns", "b")


def test_patch_operations_with_subresource_and_ignore_missing_object() -> None:
    jq_op, merge_op, json_op = parse_operations(stream(
        {"operation": "JQPatch", "kind": "ConfigMap", "namespace": "ns", "name": "a",
         "jqFilter": ".data.x = \"1\""},
        {"operation": "MergePatch", "kind": "Gadget", "name": "g", "subresource": "/status",
         "mergePatch": "status: {ready: true}", "ignoreMissingObject": True},
        {"operation": "JSONPatch", "kind": "ConfigMap", "namespace": "ns", "name": "a",
         "jsonPatch": '[{"op": "remove", "path": "/data/x"}]'},
    ))
    assert isinstance(jq_op, JQPatch) and jq_op.jq_filter == '.data.x = "1"'
    assert not jq_op.ignore_missing_object and jq_op.subresource == ""
    assert isinstance(merge_op, MergePatch) and merge_op.merge_patch == {"status": {"ready": True}}
    assert merge_op.subresource == "status" and merge_op.ignore_missing_object
    assert isinstance(json_op, JSONPatch)
    assert json_op.json_patch == [{"op": "remove", "path": "/data/x"}]


@pytest.mark.parametrize("document, expected", [
    ({"operation": "Delete", "name": "a"}, "operation 1 (Delete): key 'kind' is required"),
    ({"operation": "MergePatch", "kind": "Pod", "name": "a"},
     "operation 1 (MergePatch): key 'mergePatch' is required"),
    ({"operation": "MergePatch", "kind": "Pod", "name": "a", "mergePatch": {}},
     "key 'mergePatch': must be an object with at least one key"),
    ({"operation": "JSONPatch", "kind": "Pod", "name": "a", "jsonPatch": {"op": "add"}},
     "key 'jsonPatch': must be a list"),
    ({"operation": "JSONPatch", "kind": "Pod", "name": "a",
      "jsonPatch": [{"op": "add", "path": "/x"}]}, "key 'jsonPatch[0]': op 'add' needs a 'value'"),
    ({"operation": "JSONPatch", "kind": "Pod", "name": "a",
      "jsonPatch": [{"op": "shuffle", "path": "/x"}]}, "key 'jsonPatch[0]'.op: must be one of"),
    ({"operation": "JSONPatch", "kind": "Pod", "name": "a",
      "jsonPatch": [{"op": "move", "path": "/x"}]}, "op 'move' needs a 'from'"),
    ({"operation": "JQPatch", "kind": "Pod", "name": "a", "jqFilter": ".a |"},
     "operation 1 (JQPatch): key 'jqFilter': does not compile: jq: error: syntax error"),
    ({"operation": "MergePatch", "kind": "Pod", "name": "a", "mergePatch": {"a": 1},
      "ignoreMissingObject": "yes"}, "key 'ignoreMissingObject': must be a boolean, got a string"),
    ({"operation": "Delete", "kind": "Pod", "name": "a", "namespace": 3},
     "key 'namespace': must be a string, got an integer"),
    ({"operation": "Delete", "kind": "Pod", "name": "a", "resource": "pods/a"},
     "unknown key(s) 'resource'; allowed: operation, namespace"),
    ({"operation": "Replace"}, "key 'operation': must be one of Create, CreateIfNotExists"),
    ({"kind": "Pod"}, "key 'operation': must be one of"),
])
def test_validation_errors_name_the_operation_and_key(document: dict, expected: str) -> None:
    assert expected in error_of(stream(document))


def test_a_top_level_array_is_rejected_with_a_hint() -> None:
    message = error_of(json.dumps([{"operation": "Delete", "kind": "Pod", "name": "a"}]))
    assert message.startswith("operation 1: must be an object")
    assert "top-level array is not supported" in message


def test_the_first_invalid_document_is_reported_by_its_number() -> None:
    valid = {"operation": "Delete", "kind": "Pod", "name": "a"}
    message = error_of(stream(valid, valid, {"operation": "Delete", "kind": "Pod"}))
    assert message == "operation 3 (Delete): key 'name' is required for Delete"
