"""Go duration strings (``heartbeatInterval: 5m0s``)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kubebind.apis import duration


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(minutes=5), "5m0s"),
        (timedelta(hours=1), "1h0m0s"),
        (timedelta(seconds=1.5), "1.5s"),
        (timedelta(milliseconds=300), "300ms"),
        (timedelta(microseconds=5), "5µs"),
        (timedelta(0), "0s"),
        (timedelta(hours=26, seconds=3), "26h0m3s"),
        (timedelta(seconds=-30), "-30s"),
    ],
)
def test_format_like_go(value: timedelta, text: str) -> None:
    assert duration.format_duration(value) == text
    assert duration.parse_duration(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", timedelta(0)),
        ("1h2m3.5s", timedelta(hours=1, minutes=2, seconds=3.5)),
        ("90s", timedelta(seconds=90)),
    ],
)
def test_parse(text: str, value: timedelta) -> None:
    assert duration.parse_duration(text) == value


@pytest.mark.parametrize("text", ["", "5", "5x", "m", "1h-2m"])
def test_parse_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        duration.parse_duration(text)
