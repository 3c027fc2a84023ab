"""OSCQuery namespace model: nodes, JSON both ways, the live Namespace and its change events."""

from __future__ import annotations

import json
import threading

import pytest

from osc_live.oscquery._decode import (
    Limits,
    ReplyError,
    host_info_from_json,
    node_from_json,
    parse_json,
)
from osc_live.oscquery.model import HostInfo, Range, json_value, osc_value, split_types
from osc_live.oscquery.namespace import Change, Namespace, NodeSpec

# The proposal's first example, verbatim.
PROPOSAL_EXAMPLE = {
    "DESCRIPTION": "root node",
    "FULL_PATH": "/",
    "ACCESS": 0,
    "CONTENTS": {
        "foo": {
            "DESCRIPTION": "demonstrates a read-only OSC node- single float value ranged 0-100",
            "FULL_PATH": "/foo",
            "ACCESS": 1,
            "TYPE": "f",
            "VALUE": [0.5],
            "RANGE": [{"MIN": 0.0, "MAX": 100.0}],
        },
        "bar": {
            "DESCRIPTION": "demonstrates a read/write OSC node- two ints with different ranges",
            "FULL_PATH": "/bar",
            "ACCESS": 3,
            "TYPE": "ii",
            "VALUE": [4, 51],
            "RANGE": [{"MIN": 0, "MAX": 50}, {"MIN": 51, "MAX": 100}],
        },
        "baz": {
            "DESCRIPTION": "simple container node, with one method- qux",
            "FULL_PATH": "/baz",
            "ACCESS": 0,
            "CONTENTS": {
                "qux": {
                    "DESCRIPTION": "read/write OSC node- accepts one of several string-type inputs",
                    "FULL_PATH": "/baz/qux",
                    "ACCESS": 3,
                    "TYPE": "s",
                    "VALUE": ["half-full"],
                    "RANGE": [{"VALS": ["empty", "half-full", "full"]}],
                }
            },
        },
    },
}


def test_the_proposal_example_round_trips():
    root = node_from_json(PROPOSAL_EXAMPLE, Limits())
    assert root.find("/foo").range == [Range(0.0, 100.0)]
    assert not root.find("/foo").writable and root.find("/foo").readable
    assert root.find("/baz/qux").range[0].vals == ("empty", "half-full", "full")
    assert root.find("/baz").is_method is False
    assert root.to_json() == PROPOSAL_EXAMPLE
    assert root.find("/foo").to_json("VALUE") == {"VALUE": [0.5]}
    assert root.find("/baz").to_json("TYPE") == {}


def test_namespace_builds_the_same_json_as_the_proposal():
    ns = Namespace()
    ns.add(
        "/foo",
        "f",
        access=1,
        value=0.5,
        range=(0.0, 100.0),
        description=PROPOSAL_EXAMPLE["CONTENTS"]["foo"]["DESCRIPTION"],
    )
    ns.add(
        "/bar",
        "ii",
        value=[4, 51],
        range=[(0, 50), (51, 100)],
        description=PROPOSAL_EXAMPLE["CONTENTS"]["bar"]["DESCRIPTION"],
    )
    ns.add("/baz", access=0, description="simple container node, with one method- qux")
    ns.add(
        "/baz/qux",
        "s",
        value=["half-full"],
        range={"vals": ["empty", "half-full", "full"]},
        description=PROPOSAL_EXAMPLE["CONTENTS"]["baz"]["CONTENTS"]["qux"]["DESCRIPTION"],
    )
    assert ns.to_json("/") == PROPOSAL_EXAMPLE


def test_type_structure_and_value_table():
    assert split_types("i[ff]s") == ["i", ["f", "f"], "s"]
    for bad in ("i[f", "f]", "q"):
        with pytest.raises(ValueError):
            split_types(bad)
    assert json_value("r", 0xFA6432FF) == "#FA6432FF"
    assert osc_value("r", "#FA6432FF") == 0xFA6432FF
    assert json_value("T", True) is True and json_value("N", None) is None
    assert json_value("b", b"\x00") is None and json_value("f", float("nan")) is None
    assert osc_value("i", 3.0) == 3 and osc_value("s", "x") == "x"
    with pytest.raises(ValueError):
        osc_value("f", "loud")


def test_array_values_follow_the_type():
    ns = Namespace()
    ns.add(
        "/v", "i[ff]i", value=[100, [1.0, 0.5], 7], range=[(0, 100), [(0.0, 1.0), (0.0, 1.0)], None]
    )
    data = ns.to_json("/v")
    assert data["VALUE"] == [100, [1.0, 0.5], 7]
    assert data["RANGE"] == [{"MIN": 0, "MAX": 100}, [{"MIN": 0.0, "MAX": 1.0}] * 2, None]
    assert node_from_json(data, Limits(), "/v").value == [100, [1.0, 0.5], 7]


def test_add_validates():
    ns = Namespace()
    for path in ("fx", "/fx/", "/a//b", "/a b", "/a*", "/"):
        with pytest.raises(ValueError):
            ns.add(path, "f")
    with pytest.raises(ValueError, match="takes 2 value"):
        ns.add("/x", "ff", value=[1.0])
    with pytest.raises(ValueError, match="ACCESS"):
        ns.add("/x", "f", access=7)


def test_events_parents_and_pruning():
    ns = Namespace()
    seen: list[Change] = []
    stop = ns.subscribe(seen.append)
    ns.add("/a/b/c", "f", value=1.0)
    assert [(c.kind, c.path) for c in seen] == [
        ("added", "/a"),
        ("added", "/a/b"),
        ("added", "/a/b/c"),
    ]
    assert ns.to_json("/a")["ACCESS"] == 0
    seen.clear()
    assert ns.set_value("/a/b/c", [2.0]) and not ns.set_value("/nope", [1])
    assert seen == [Change("value", "/a/b/c", "f", (2.0,))]
    seen.clear()
    ns.remove("/a/b/c")
    assert [c.path for c in seen] == ["/a/b/c", "/a/b", "/a"]  # implicit parents go too
    assert ns.paths() == ["/"] and len(ns) == 1
    stop()
    ns.add("/q")
    assert len(seen) == 3


def test_untyped_node_takes_the_type_of_what_arrives():
    ns = Namespace()
    ns.add("/handler", description="on: handler")
    assert "ACCESS" not in ns.to_json("/handler")  # absent ACCESS: writable (the proposal)
    ns.set_value("/handler", [1, "x"], type="is")
    assert ns.to_json("/handler")["TYPE"] == "is" and ns.to_json("/handler")["ACCESS"] == 3


def test_sync_adds_updates_and_removes_only_what_changed():
    ns = Namespace()
    seen: list[str] = []
    ns.subscribe(lambda c: seen.append(f"{c.kind} {c.path}"))
    ns.sync({"/a": NodeSpec("f", value=(0.1,)), "/b/c": NodeSpec()})
    seen.clear()
    ns.sync({"/a": NodeSpec("f", value=(0.1,)), "/b/c": NodeSpec()})
    assert seen == []  # nothing changed: no event
    ns.sync({"/a": NodeSpec("f", value=(0.2,))})
    assert seen == ["removed /b/c", "removed /b"]
    assert ns.to_json("/a", "VALUE") == {"VALUE": [0.2]}


def test_namespace_is_thread_safe_under_concurrent_changes():
    ns = Namespace()
    errors: list[BaseException] = []

    def churn(k: int) -> None:
        try:
            for i in range(300):
                ns.add(f"/t{k}/n{i % 7}", "i", value=i)
                ns.set_value(f"/t{k}/n{i % 7}", [i])
                json.dumps(ns.to_json("/"))
                if i % 5 == 0:
                    ns.remove(f"/t{k}/n{i % 7}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=churn, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert len(ns) == len(ns.paths())


# -- decoding hostile JSON ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "node is an array, expected an object"),
        ({"CONTENTS": []}, "/: CONTENTS is an array"),
        ({"CONTENTS": {"a": 3}}, "/a: node is a number"),
        ({"CONTENTS": {"a/b": {}}}, "bad CONTENTS key"),
        ({"TYPE": 5}, "TYPE is a number, expected a string"),
        ({"TYPE": "fq"}, "bad TYPE"),
        ({"ACCESS": "rw"}, "ACCESS is 'rw'"),
        ({"ACCESS": True}, "ACCESS is True"),
        ({"TYPE": "f", "VALUE": [{"x": 1}]}, "VALUE holds an object"),
        ({"TYPE": "f", "RANGE": "0..1"}, "RANGE is a string"),
        ({"TYPE": "f", "RANGE": [{"MIN": [0]}]}, "RANGE MIN is an array"),
        ({"DESCRIPTION": ["x"]}, "DESCRIPTION is an array"),
        ({"FULL_PATH": 7}, "FULL_PATH"),
        ({"TAGS": [1]}, "TAGS must be an array of strings"),
    ],
)
def test_wrong_types_are_one_line_errors(data, message):
    with pytest.raises(ReplyError, match=message.replace("[", r"\[").replace("?", r"\?")) as info:
        node_from_json(data, Limits())
    assert "\n" not in str(info.value)


def test_limits_on_size_depth_and_count():
    limits = Limits(max_depth=10, max_nodes=50, max_containers=1000)
    deep = b"[" * 20 + b"]" * 20
    with pytest.raises(ReplyError, match="nested deeper than 10"):
        parse_json(deep, limits)
    very_deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(ReplyError, match="more than 1000 JSON objects"):
        parse_json(very_deep, limits)
    with pytest.raises(ReplyError, match="nested deeper"):  # C recursion limit, no crash
        parse_json(b"[" * 50_000 + b"]" * 50_000, Limits(max_containers=10**6))
    many = {"CONTENTS": {f"n{i}": {} for i in range(60)}}
    with pytest.raises(ReplyError, match="more than 50 nodes"):
        node_from_json(many, limits)
    with pytest.raises(ReplyError, match="not UTF-8"):
        parse_json(b'{"a": "\xff"}', limits)
    with pytest.raises(ReplyError, match="not JSON"):
        parse_json(b"{'a': 1}", limits)
    with pytest.raises(ReplyError, match="not JSON"):  # a 10,000-digit number
        parse_json(b"1" * 10_000, limits)


def test_host_info_decoding():
    info = host_info_from_json(
        {"NAME": "x", "EXTENSIONS": {"LISTEN": True}, "OSC_PORT": 9000, "OSC_TRANSPORT": "tcp"}
    )
    assert info.listen and info.transport == "tcp" and info.osc_port == 9000
    assert HostInfo().transport == "udp"
    for bad, msg in (
        ([], "HOST_INFO is an array"),
        ({"OSC_PORT": 70000}, "OSC_PORT"),
        ({"OSC_TRANSPORT": "SCTP"}, "OSC_TRANSPORT"),
        ({"EXTENSIONS": [1]}, "EXTENSIONS"),
    ):
        with pytest.raises(ReplyError, match=msg):
            host_info_from_json(bad)


def test_format_tree():
    from osc_live.oscquery import format_tree

    text = format_tree(node_from_json(PROPOSAL_EXAMPLE, Limits()))
    lines = text.splitlines()
    assert lines[0].startswith("/") and "root node" in lines[0]
    assert "├─ foo" in lines[1] and "0.0 … 100.0" in lines[1] and " r " in lines[1]
    assert "└─ baz/" in lines[3] and "{'empty', 'half-full', 'full'}" in lines[4]
    big = Namespace()
    for i in range(30):
        big.add(f"/n{i}", "i", value=i)
    assert "(more than 10 nodes)" in format_tree(big.get("/"), max_nodes=10)
