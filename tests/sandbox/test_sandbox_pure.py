"""Pure parts of the sandbox: selectors, the three patch formats and server-side apply merging."""

from __future__ import annotations

import pytest

from kube_sandbox.apply import apply_config
from kube_sandbox.errors import ApiError
from kube_sandbox.patch import json_patch, merge_patch, strategic_merge
from kube_sandbox.selectors import matcher


def obj(labels: dict[str, str], **fields: object) -> dict:
    return {"metadata": {"name": "n", "namespace": "ns", "labels": labels}, **fields}


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("app=web", {"app": "web"}, True),
        ("app==web", {"app": "db"}, False),
        ("app!=web", {}, True),
        ("tier in (a, b)", {"tier": "b"}, True),
        ("tier notin (a,b)", {"tier": "a"}, False),
        ("tier notin (a,b)", {}, True),
        ("tier", {"tier": ""}, True),
        ("!tier", {"tier": "x"}, False),
        ("app=web,tier in (a,b),!legacy", {"app": "web", "tier": "a"}, True),
        ("size>3", {"size": "4"}, True),
        ("size<3", {"size": "x"}, False),
    ],
)
def test_label_selectors(selector: str, labels: dict[str, str], expected: bool) -> None:
    assert matcher(selector, None)(obj(labels)) is expected


def test_field_selectors_read_any_dotted_path_and_escapes() -> None:
    event = obj({}, involvedObject={"kind": "Module", "name": "a,b"}, count=2)
    assert matcher(None, r"involvedObject.kind=Module,involvedObject.name=a\,b")(event)
    assert matcher(None, "metadata.namespace!=other,count==2")(event)
    assert not matcher(None, "involvedObject.uid=x")(event)
    assert matcher(None, "spec.nodeName=")(event)  # a missing field reads as ""


def test_malformed_selector_is_a_bad_request() -> None:
    with pytest.raises(ApiError) as caught:
        matcher("a in (b", None)
    assert caught.value.code == 400


def test_merge_patch_deletes_with_null_and_never_mutates_input() -> None:
    target = {"a": {"b": 1, "c": 2}, "l": [1, 2]}
    assert merge_patch(target, {"a": {"b": None, "d": 3}, "l": [3]}) == {"a": {"c": 2, "d": 3}, "l": [3]}
    assert target == {"a": {"b": 1, "c": 2}, "l": [1, 2]}


def test_json_patch_supports_every_operation() -> None:
    doc = {"a": [1, 2], "b": {"c": "x"}}
    ops = [
        {"op": "add", "path": "/a/-", "value": 3},
        {"op": "add", "path": "/a/0", "value": 0},
        {"op": "replace", "path": "/b/c", "value": "y"},
        {"op": "copy", "from": "/b/c", "path": "/d"},
        {"op": "move", "from": "/a/1", "path": "/e"},
        {"op": "remove", "path": "/a/0"},
        {"op": "test", "path": "/d", "value": "y"},
        {"op": "add", "path": "/f~1g", "value": True},
    ]
    assert json_patch(doc, ops) == {"a": [2, 3], "b": {"c": "y"}, "d": "y", "e": 1, "f/g": True}
    assert doc == {"a": [1, 2], "b": {"c": "x"}}


@pytest.mark.parametrize(
    "ops",
    [
        [{"op": "test", "path": "/a", "value": 2}],
        [{"op": "remove", "path": "/missing"}],
        [{"op": "replace", "path": "/x/y", "value": 1}],
    ],
)
def test_json_patch_failures_are_unprocessable(ops: list) -> None:
    with pytest.raises(ApiError) as caught:
        json_patch({"a": 1}, ops)
    assert caught.value.code == 422


def test_strategic_merge_merges_containers_by_name_and_honours_directives() -> None:
    live = {"spec": {"containers": [{"name": "a", "image": "a:1", "ports": [{"containerPort": 80}]},
                                    {"name": "b", "image": "b:1"}],
                     "args": ["x"]}}
    patch = {"spec": {"containers": [{"name": "a", "image": "a:2"}, {"name": "b", "$patch": "delete"},
                                     {"name": "c", "image": "c:1"}],
                      "$setElementOrder/containers": [{"name": "c"}, {"name": "a"}],
                      "args": ["y"]}}
    assert strategic_merge(live, patch) == {"spec": {
        "containers": [{"name": "c", "image": "c:1"},
                       {"name": "a", "image": "a:2", "ports": [{"containerPort": 80}]}],
        "args": ["y"]}}


def test_apply_removes_fields_the_same_manager_stopped_applying() -> None:
    first = {"metadata": {"name": "x", "labels": {"a": "1", "b": "2"}}, "data": {"k": "v", "old": "o"}}
    live = apply_config(None, first, manager="helm", api_version="v1", now="t1")
    live["data"]["foreign"] = "kept"  # written by someone else
    second = {"metadata": {"name": "x", "labels": {"a": "1"}}, "data": {"k": "w"}}
    result = apply_config(live, second, manager="helm", api_version="v1", now="t2")
    assert result["data"] == {"k": "w", "foreign": "kept"}
    assert result["metadata"]["labels"] == {"a": "1"}
    managers = [(e["manager"], e["operation"]) for e in result["metadata"]["managedFields"]]
    assert managers == [("helm", "Apply")]
    assert result["metadata"]["managedFields"][0]["fieldsV1"]["f:data"] == {"f:k": {}}
