"""`with` / `async with` on the two session-client faces: the object itself, closed on the way
out even when the body raises (the mixins in capture._lifecycle; the recorders' faces are
covered where they capture)."""

from __future__ import annotations

import pytest

from capture.session import AsyncSessionClient, SessionClient

URL = "http://127.0.0.1:9/api/v1"  # never reached: a closed client refuses before connecting


def _fail_inside(client: SessionClient) -> SessionClient:
    with client as entered:
        assert entered is client
        raise KeyError("the body failed")


async def _fail_inside_async(client: AsyncSessionClient) -> AsyncSessionClient:
    async with client as entered:
        assert entered is client
        raise KeyError("the body failed")


def test_sync_face_is_itself_and_closed_after_an_error() -> None:
    client = SessionClient(URL)
    with pytest.raises(KeyError):
        _fail_inside(client)
    with pytest.raises(RuntimeError, match="closed"):
        client.get_session_values("t")


async def test_async_face_is_itself_and_closed_after_an_error() -> None:
    client = AsyncSessionClient(URL)
    with pytest.raises(KeyError):
        await _fail_inside_async(client)
    with pytest.raises(RuntimeError, match="closed"):
        await client.get_session_values("t")
