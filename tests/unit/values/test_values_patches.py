"""Hook values patches: stream parsing, per-hook rules, applying, compaction, Enabled ops."""

from __future__ import annotations

import pytest

from addon_operator.values import (
    PatchError,
    apply_patch,
    check_global_patch,
    check_module_patch,
    compact,
    enabled_patch_values,
    parse_patch_stream,
)


def add(path: str, value: object) -> dict:
    return {"op": "add", "path": path, "value": value}


def remove(path: str) -> dict:
    return {"op": "remove", "path": path}


# --- parsing ---------------------------------------------------------------------------------

def test_stream_of_single_ops_and_arrays() -> None:
    text = (
        '{"op":"add","path":"/m/a","value":1}\n'
        '[{"op":"remove","path":"/m/b"}, {"op":"add","path":"/m/c","value":[]}]'
        '{"op":"add","path":"/m/d","value":{"x":true}}\n\n'
    )
    assert parse_patch_stream(text) == [
        add("/m/a", 1), remove("/m/b"), add("/m/c", []), add("/m/d", {"x": True})
    ]


@pytest.mark.parametrize("text", ["", "  \n\t\n", "[]"])
def test_empty_stream_means_no_ops(text: str) -> None:
    assert parse_patch_stream(text) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"op":"add","path":"/m/a","value":1}\n{"op":', "values patch: line 2 column 7: invalid JSON"),
        ('\n  42', "values patch: line 2 column 3: expected a JSON patch operation object, got an integer"),
        ('[{"op":"add","path":"/m","value":1}, "x"]', "values patch: line 1 column 1, item 1: expected a JSON patch operation object"),
        ('{"op":"merge","path":"/m"}', "'op' must be one of add, remove, replace, move, copy, test, got 'merge'"),
        ('{"op":"remove"}', "operation 'remove' needs a string 'path'"),
        ('{"op":"add","path":"/m/a"}', "operation 'add' on '/m/a' needs a 'value'"),
        ('{"op":"remove","path":"m/a"}', "values patch: line 1 column 1: invalid JSON pointer 'm/a': it must start with '/'"),
        ('{"op":"remove","path":"/m/~2"}', "'~' must be followed by 0 or 1"),
    ],
)
def test_bad_streams_are_rejected_with_position(text: str, message: str) -> None:
    with pytest.raises(PatchError) as err:
        parse_patch_stream(text)
    assert message in str(err.value)


def test_source_names_the_file() -> None:
    with pytest.raises(PatchError, match=r"^hooks/a\.sh VALUES_JSON_PATCH_PATH: line 1 column 1"):
        parse_patch_stream("nope", source="hooks/a.sh VALUES_JSON_PATCH_PATH")


# --- module and global rules -----------------------------------------------------------------

def test_module_hook_may_patch_its_own_key() -> None:
    check_module_patch(
        [add("/certManager/internal/x", 1), remove("/certManager"), {"op": "test", "path": "/certManager/a", "value": 1}],
        "certManager",
    )


@pytest.mark.parametrize(
    ("op", "message"),
    [
        (add("/global/x", 1), "patch path '/global/x' is outside the module's values: only '/certManager/...' is accepted"),
        (add("/other/x", 1), "patch path '/other/x' is outside"),
        (add("/certManagerEnabled", True), "patch path '/certManagerEnabled' is outside"),
        (add("", {}), "patch path '' is outside"),
        ({"op": "replace", "path": "/certManager/x", "value": 1}, "unsupported patch operation 'replace'"),
        ({"op": "move", "from": "/certManager/a", "path": "/certManager/x"}, "unsupported patch operation 'move'"),
    ],
)
def test_module_hook_rules_reject(op: dict, message: str) -> None:
    with pytest.raises(PatchError) as err:
        check_module_patch([op], "certManager")
    assert message in str(err.value)


def test_global_hook_ops_split_into_values_and_enabled() -> None:
    ops = [add("/global/a", 1), add("/fooEnabled", "TRUE"), remove("/barEnabled"), remove("/global/b")]
    values_ops, enabled_ops = check_global_patch(ops)
    assert values_ops == [add("/global/a", 1), remove("/global/b")]
    assert enabled_ops == [add("/fooEnabled", "TRUE"), remove("/barEnabled")]


@pytest.mark.parametrize(
    ("op", "message"),
    [
        (add("/certManager/x", 1), "patch path '/certManager/x' is not accepted from a global hook: only '/global/...' and '/<moduleKey>Enabled' are"),
        (add("/Enabled", True), "is not accepted from a global hook"),
        ({"op": "replace", "path": "/global/x", "value": 1}, "unsupported patch operation 'replace'"),
        (add("/fooEnabled", "yes"), "an Enabled flag must be true/false"),
        (add("/fooEnabled/x", True), "an Enabled flag takes only 'add' or 'remove' of the whole key"),
        ({"op": "test", "path": "/fooEnabled", "value": True}, "takes only 'add' or 'remove'"),
    ],
)
def test_global_hook_rules_reject(op: dict, message: str) -> None:
    with pytest.raises(PatchError) as err:
        check_global_patch([op])
    assert message in str(err.value)


def test_enabled_patch_values() -> None:
    ops = [add("/fooEnabled", True), add("/barEnabled", "False"), remove("/bazEnabled"),
           add("/quxEnabled", True), remove("/quxEnabled"), add("/global/x", 1)]
    assert enabled_patch_values(ops) == {"foo": True, "bar": False, "baz": None, "qux": None}


# --- applying --------------------------------------------------------------------------------

def test_add_and_remove_on_objects_and_lists() -> None:
    doc = {"m": {"list": [1, 2], "gone": 1}}
    ops = [
        add("/m/list/0", 0), add("/m/list/-", 3), add("/m/list/4", 4), remove("/m/list/1"),
        add("/m/new", {"x": 1}), remove("/m/gone"),
    ]
    assert apply_patch(doc, ops, strict=True) == {"m": {"list": [0, 2, 3, 4], "new": {"x": 1}}}
    assert doc == {"m": {"list": [1, 2], "gone": 1}}  # input untouched


def test_pointer_escapes() -> None:
    doc = {"m": {}}
    result = apply_patch(doc, [add("/m/a~1b", 1), add("/m/c~0d", 2)], strict=True)
    assert result == {"m": {"a/b": 1, "c~d": 2}}
    assert apply_patch(result, [remove("/m/a~1b")], strict=True) == {"m": {"c~d": 2}}


def test_value_is_copied_into_the_document() -> None:
    value = {"x": [1]}
    result = apply_patch({"m": {}}, [add("/m/v", value)], strict=True)
    result["m"]["v"]["x"].append(2)
    assert value == {"x": [1]}


@pytest.mark.parametrize("path", ["/m/missing", "/m/list/5", "/nope/deeper"])
def test_strict_remove_of_a_missing_path_fails(path: str) -> None:
    with pytest.raises(PatchError, match=f"cannot apply .*{path}"):
        apply_patch({"m": {"list": [1]}}, [remove(path)], strict=True)


def test_non_strict_skips_missing_removes_and_applies_the_rest() -> None:
    ops = [remove("/m/missing"), remove("/nope/deeper"), add("/m/a", 1)]
    assert apply_patch({"m": {}}, ops, strict=False) == {"m": {"a": 1}}


@pytest.mark.parametrize("strict", [True, False])
def test_add_under_a_missing_parent_fails_in_both_modes(strict: bool) -> None:
    with pytest.raises(PatchError, match="path '/m/x' does not exist"):
        apply_patch({"m": {}}, [add("/m/x/y", 1)], strict=strict)


def test_bad_list_index() -> None:
    with pytest.raises(PatchError, match="'01' in '/m/l/01' is not an array index"):
        apply_patch({"m": {"l": [1, 2]}}, [add("/m/l/01", 0)], strict=True)
    with pytest.raises(PatchError, match="array index 3 in '/m/l/3' is out of range"):
        apply_patch({"m": {"l": [1, 2]}}, [add("/m/l/3", 0)], strict=True)


def test_test_op_compares_as_json() -> None:
    doc = {"m": {"n": 1, "b": True}}
    ok = [{"op": "test", "path": "/m/n", "value": 1.0}, {"op": "test", "path": "/m/b", "value": True}]
    assert apply_patch(doc, ok, strict=True) == doc
    with pytest.raises(PatchError, match="test failed: '/m/b' does not hold the value the operation expects"):
        apply_patch(doc, [{"op": "test", "path": "/m/b", "value": 1}], strict=True)


def test_replace_is_never_applied() -> None:
    with pytest.raises(PatchError, match="unsupported patch operation 'replace'"):
        apply_patch({"m": {"a": 1}}, [{"op": "replace", "path": "/m/a", "value": 2}], strict=False)


# --- compaction ------------------------------------------------------------------------------

def test_last_op_per_path_wins_and_paths_are_sorted() -> None:
    stored = [add("/m/b", 1), add("/m/a", 1)]
    assert compact(stored, [add("/m/b", 2), remove("/m/a")]) == [remove("/m/a"), add("/m/b", 2)]


@pytest.mark.parametrize("parent_op", [add("/m/settings", {}), remove("/m/settings")])
def test_new_parent_op_drops_stored_sub_paths(parent_op: dict) -> None:
    stored = [
        add("/m/settings", {"p": {}}), add("/m/settings/p/f1", "a"),
        add("/m/settings/p/f2", "b"), add("/m/settingsOther", 1),
    ]
    assert compact(stored, [parent_op]) == [parent_op, add("/m/settingsOther", 1)]


def test_sub_path_ops_of_the_same_batch_are_kept() -> None:
    new = [add("/m/s", {"p": {}}), add("/m/s/p/f", 1)]
    assert compact([], new) == new


def test_test_ops_are_not_stored() -> None:
    assert compact([], [{"op": "test", "path": "/m/a", "value": 1}, add("/m/a", 1)]) == [add("/m/a", 1)]


def test_compacted_ops_re_apply_non_strictly() -> None:
    ops = compact([add("/m/x", 1)], [remove("/m/x")])
    assert apply_patch({"m": {}}, ops, strict=False) == {"m": {}}
