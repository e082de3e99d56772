"""The loopback callback server: 127.0.0.1 only, session checked, one answer, timeout."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from kubectl_bind.callback import CallbackServer
from kubectl_bind.errors import CLIError


async def test_callback_checks_the_session_and_returns_the_query() -> None:
    with CallbackServer("s3cret") as cb:
        assert cb.url.startswith("http://127.0.0.1:") and cb.url.endswith("/callback")
        async with httpx.AsyncClient() as http:
            wrong = await http.get(cb.url, params={"session_id": "other", "binding_response": "x"})
            assert wrong.status_code == 401
            missing = await http.get(cb.url.replace("/callback", "/elsewhere"))
            assert missing.status_code == 404
            waiter = asyncio.create_task(cb.wait(10))
            ok = await http.get(cb.url, params={"session_id": "s3cret", "binding_response": "abc"})
            assert ok.status_code == 200 and "close this window" in ok.text
            assert await waiter == {"session_id": "s3cret", "binding_response": "abc"}
            again = await http.get(cb.url, params={"session_id": "s3cret", "binding_response": "zzz"})
            assert again.status_code == 410


async def test_login_callback_accepts_a_missing_but_never_a_wrong_session() -> None:
    with CallbackServer("s1", require_session=False) as cb:
        async with httpx.AsyncClient() as http:
            wrong = await http.get(cb.url, params={"session_id": "s2", "access_token": "t"})
            assert wrong.status_code == 401
            waiter = asyncio.create_task(cb.wait(10))
            ok = await http.get(cb.url, params={"access_token": "t", "token_type": "Bearer"})
            assert ok.status_code == 200
            assert (await waiter)["access_token"] == "t"


async def test_callback_times_out_with_a_clear_error() -> None:
    with CallbackServer() as cb, pytest.raises(CLIError, match="timed out"):
        await cb.wait(0.2)
