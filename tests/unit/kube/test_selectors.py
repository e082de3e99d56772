"""Label selectors: parsing, rendering and matching agree with the apiserver's semantics."""

from __future__ import annotations

import pytest

from kubebind.kube.selectors import LabelSelector, parse_label_selector


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        ("", {}, True),
        ("a=b", {"a": "b"}, True),
        ("a==b", {"a": "c"}, False),
        ("a!=b", {}, True),  # absent label satisfies !=
        ("a!=b", {"a": "b"}, False),
        ("a in (x, y)", {"a": "y"}, True),
        ("a notin (x,y)", {"a": "z"}, True),
        ("a notin (x,y)", {}, True),
        ("a", {"a": ""}, True),
        ("!a", {"a": "1"}, False),
        ("app=web, tier in (fe), !legacy", {"app": "web", "tier": "fe"}, True),
        ("kube-bind.io/exported=true", {"kube-bind.io/exported": "true"}, True),
    ],
)
def test_matching(text: str, labels: dict[str, str], expected: bool) -> None:
    assert parse_label_selector(text).matches(labels) is expected


@pytest.mark.parametrize("bad", ["a=b,", "a in ()", "=b", "a=b c", "a in (x", ",a"])
def test_malformed_selectors_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_label_selector(bad)


def test_round_trip_through_query_string() -> None:
    sel = parse_label_selector("b in (y,x),a=1,!c,d")
    assert str(sel) == "b in (x,y),a=1,!c,d"
    assert parse_label_selector(str(sel)) == sel


def test_from_metav1_label_selector() -> None:
    sel = LabelSelector.from_dict(
        {
            "matchLabels": {"app": "cowboy"},
            "matchExpressions": [
                {"key": "type", "operator": "In", "values": ["weapon", "permit"]},
                {"key": "legacy", "operator": "DoesNotExist"},
                {"key": "team", "operator": "Exists"},
            ],
        }
    )
    assert sel.matches({"app": "cowboy", "type": "permit", "team": "a"})
    assert not sel.matches({"app": "cowboy", "type": "permit"})
    assert str(sel) == "app=cowboy,type in (permit,weapon),!legacy,team"
    assert LabelSelector.from_dict(None).empty()
    with pytest.raises(ValueError):
        LabelSelector.from_dict({"matchExpressions": [{"key": "a", "operator": "Near"}]})
    with pytest.raises(ValueError):
        LabelSelector.from_dict({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]})
