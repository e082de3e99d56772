"""The ~/.kube-bind/config file: Go-compatible JSON, mode 0600, atomic, clear errors."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kubectl_bind import config
from kubectl_bind.errors import CLIError, UsageError


def test_round_trip_in_go_format_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "dir" / "config"
    cfg = config.Config.load(path)
    assert cfg.servers == {}
    expires = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    cfg.set_server(
        config.Server("https://kb.example.com", cluster="c1", access_token="jwt", expires_at=expires)
    )
    cfg.save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    data = json.loads(path.read_text())
    assert data == {
        "apiVersion": "v1",
        "kind": "Config",
        "servers": {
            "c1@https://kb.example.com": {
                "url": "https://kb.example.com",
                "cluster": "c1",
                "accessToken": "jwt",
                "tokenType": "Bearer",
                "expiresAt": "2030-01-02T03:04:05Z",
                "username": "",
            }
        },
        "current": "c1@https://kb.example.com",
    }
    again = config.Config.load(path)
    assert again.lookup().access_token == "jwt"
    assert again.lookup().expires_at == expires


def test_reads_a_file_written_by_the_go_cli(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(
        '{"apiVersion":"v1","kind":"Config","servers":{"http://127.0.0.1:8080":{"url":"http://127.0.0.1:8080",'
        '"accessToken":"abc","tokenType":"Bearer","expiresAt":"2099-06-01T10:00:00+02:00"}},'
        '"current":"http://127.0.0.1:8080"}'
    )
    server = config.Config.load(path).lookup()
    assert server.url == "http://127.0.0.1:8080" and server.cluster == ""
    assert server.expires_at == datetime(2099, 6, 1, 8, 0, tzinfo=UTC)
    assert server.token_valid()


def test_save_tightens_a_world_readable_file(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text("{}")
    path.chmod(0o644)
    cfg = config.Config.load(path)
    cfg.set_server(config.Server("http://a:1", access_token="x"))
    cfg.save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".config-")]


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"servers": []}'])
def test_malformed_file_is_a_clear_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "config"
    path.write_text(content)
    with pytest.raises(CLIError, match=str(path)):
        config.Config.load(path)


def test_token_expires_five_minutes_early() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    server = config.Server("http://a:1", access_token="x", expires_at=now + timedelta(minutes=4))
    assert not server.token_valid(now)
    server.expires_at = now + timedelta(minutes=6)
    assert server.token_valid(now)
    assert not config.Server("http://a:1").token_valid(now)


def test_urls_and_server_keys() -> None:
    assert config.normalize_url("https://kb.example.com:8443/some/path?x=1") == "https://kb.example.com:8443"
    assert config.split_server("https://kb.example.com@prod") == ("https://kb.example.com", "prod")
    assert config.split_server("http://127.0.0.1:8080") == ("http://127.0.0.1:8080", "")
    assert config.server_key("http://h", "c") == "c@http://h"
    for bad in ("kb.example.com", "ftp://x", "http://"):
        with pytest.raises(UsageError):
            config.normalize_url(bad)


def test_lookup_without_login_says_what_to_do(tmp_path: Path) -> None:
    cfg = config.Config.load(tmp_path / "none")
    with pytest.raises(CLIError, match="kubectl bind login"):
        cfg.lookup()
    with pytest.raises(CLIError, match="kubectl bind login http://x:1"):
        cfg.lookup("http://x:1")
