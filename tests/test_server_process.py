"""`capture serve` as a real subprocess: startup output, refusals, restart persistence, and
durability of every acknowledged write across a SIGKILL."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx
import pytest

from tests.conftest import StartServe, default_store_file, serve_refused, wait_until


def test_serve_starts_prints_where_and_keeps_data_across_restarts(
    capture_serve: StartServe, tmp_path: Path
) -> None:
    server = capture_serve()  # the default store: sqlite in the user's data folder
    assert server.base_url.startswith("http://127.0.0.1:")
    assert server.base_url.endswith("/api/v1")
    assert server.data_line == f"data: sqlite {default_store_file()}"
    body = {"key": "k/1", "value": {"ok": True}, "expiry": None}
    assert httpx.post(f"{server.base_url}/sessions/t/values", json=body).status_code == 204
    server.stop()
    assert server.process.returncode in (0, -signal.SIGTERM)

    again = capture_serve()
    response = httpx.get(f"{again.base_url}/sessions/t/values/k%2F1")
    assert response.json() == {"value": {"ok": True}}
    assert httpx.get(f"{again.root}/v1/sessions/t/values/k%2F1").json() == {"value": {"ok": True}}


def test_serve_refuses_a_public_address_without_a_token(tmp_path: Path) -> None:
    result = serve_refused(tmp_path, "--host", "0.0.0.0", "--store", "memory://")
    assert result.returncode == 1
    assert result.stderr.startswith("error: refusing to listen on 0.0.0.0 without a token")
    assert "--insecure" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("store", "message"),
    [("nosuch://x", "unknown store URL"), ("sqlite:////proc/no/store.db", "cannot open")],
)
def test_serve_reports_a_bad_store_in_one_line(tmp_path: Path, store: str, message: str) -> None:
    result = serve_refused(tmp_path, "--port", "0", "--store", store)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_with_a_token(capture_serve: StartServe) -> None:
    server = capture_serve("--store", "memory://", "--token", "tok")
    assert "memory" in server.data_line
    url = f"{server.base_url}/sessions"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"x-api-key": "tok"}).json() == []


@pytest.mark.slow
@pytest.mark.parametrize(
    "url", ["sqlite:///data/store.db", "sqlite:///data/store.db?synchronous=full"]
)
async def test_every_acknowledged_write_survives_sigkill(
    capture_serve: StartServe, url: str
) -> None:
    server = capture_serve("--store", url)
    acked: dict[str, int] = {}
    enough = asyncio.Event()

    async def writer(http: httpx.AsyncClient, n: int) -> None:
        for i in range(1_000_000):
            key = f"w{n:02d}-{i}"
            body = {"key": key, "value": {"n": n, "i": i, "pad": "x" * 200}, "expiry": None}
            try:
                response = await http.post("/sessions/durable/values", json=body)
            except httpx.TransportError:
                return  # the server is gone
            assert response.status_code == 204
            acked[key] = i
            if len(acked) >= 600:
                enough.set()

    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        writers = [asyncio.create_task(writer(http, n)) for n in range(32)]
        await enough.wait()
        server.process.send_signal(signal.SIGKILL)  # in the middle of the stream of writes
        await asyncio.gather(*writers)
    server.stop()
    assert server.process.returncode == -signal.SIGKILL

    again = capture_serve("--store", url)
    async with httpx.AsyncClient(base_url=again.base_url, timeout=30) as http:
        stored = (await http.get("/sessions/durable/values")).json()["values"]
    missing = [key for key in acked if key not in stored]
    assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {missing[:5]}"
    assert all(stored[key]["i"] == i for key, i in acked.items())


def test_serve_names_a_store_left_at_the_old_default_place(
    capture_serve: StartServe, tmp_path: Path
) -> None:
    (tmp_path / ".capture").mkdir()
    (tmp_path / ".capture" / "store.db").write_bytes(b"")
    server = capture_serve()

    def said() -> str:
        server.stderr.seek(0)
        return server.stderr.read().decode()

    wait_until(lambda: "note:" in said(), "the note on stderr", limit=15)
    assert said().startswith("note: .capture/store.db here is a capture store at the old default")
