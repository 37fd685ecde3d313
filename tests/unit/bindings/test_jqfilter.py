"""jqFilter evaluation with gojq's output rules and the checksums behind change suppression."""

from __future__ import annotations

import pytest

from addon_operator.bindings.jqfilter import FilterError, ObjectFilter, checksum, gojq_value


def test_output_rules_zero_one_many() -> None:
    assert gojq_value([]) is None
    assert gojq_value([{"a": 1}]) == {"a": 1}
    assert gojq_value([1, 2]) == [1, 2]
    obj = {"metadata": {"name": "x", "labels": {"a": "1", "b": "2"}}}
    assert ObjectFilter("empty").apply(obj).result is None
    assert ObjectFilter(".metadata.name").apply(obj).result == "x"
    assert ObjectFilter(".metadata.labels[]").apply(obj).result == ["1", "2"]


def test_checksum_follows_the_filter_result_not_the_object() -> None:
    names = ObjectFilter(".metadata.name")
    first = names.apply({"metadata": {"name": "x", "resourceVersion": "1"}})
    second = names.apply({"metadata": {"name": "x", "resourceVersion": "2"}})
    assert first.checksum == second.checksum == checksum("x")
    whole = ObjectFilter(None)
    assert not whole.active
    assert whole.apply({"metadata": {"resourceVersion": "1"}}).checksum != \
        whole.apply({"metadata": {"resourceVersion": "2"}}).checksum
    assert checksum({"b": 1, "a": 2}) == checksum({"a": 2, "b": 1})


def test_runtime_error_names_filter_and_object() -> None:
    with pytest.raises(FilterError, match=r"'\.data \+ 1' failed on ConfigMap ns/cfg"):
        ObjectFilter(".data + 1").apply(
            {"kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "ns"}, "data": {}})
