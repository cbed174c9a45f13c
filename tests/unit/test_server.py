"""ui/server.py: Streamlit's static files from memory, byte for byte, and nothing else."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from streamlit import file_util

from ui.server import CACHE_CONTROL, StaticFilesFromMemory

STATIC = Path(file_util.get_static_dir())


def _run(coroutine: Any) -> None:
    """asyncio.run in a thread of its own: other tests (Playwright's sync API) may leave an
    event loop running in this one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine).result()


def _call(path: str, method: str = "GET",
          headers: list[tuple[bytes, bytes]] | None = None) -> tuple[str, list[dict[str, Any]]]:
    """Run the middleware on one request; returns who answered and the messages sent."""
    sent: list[dict[str, Any]] = []
    passed: list[str] = []

    async def streamlit(scope: dict, receive: Any, send: Any) -> None:
        passed.append(scope["path"])

    async def receive() -> dict:
        return {"type": "http.request", "body": b""}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": headers or []}
    _run(StaticFilesFromMemory(streamlit)(scope, receive, send))
    return ("streamlit" if passed else "memory"), sent


def _a_bundle() -> Path:
    return max((STATIC / "static" / "js").glob("*.js"), key=lambda p: p.stat().st_size)


def test_a_bundle_is_answered_byte_for_byte_with_streamlits_headers() -> None:
    bundle = _a_bundle()
    who, sent = _call(f"/static/js/{bundle.name}")
    assert who == "memory"
    assert sent[0]["status"] == 200
    headers = dict(sent[0]["headers"])
    assert headers[b"content-type"] in (b"application/javascript", b"text/javascript")
    assert headers[b"cache-control"] == CACHE_CONTROL
    assert int(headers[b"content-length"]) == bundle.stat().st_size
    assert sent[1]["body"] == bundle.read_bytes()


def test_head_sends_the_headers_and_no_body() -> None:
    bundle = _a_bundle()
    who, sent = _call(f"/static/js/{bundle.name}", method="HEAD")
    assert who == "memory"
    assert int(dict(sent[0]["headers"])[b"content-length"]) == bundle.stat().st_size
    assert sent[1]["body"] == b""


@pytest.mark.parametrize("path", [
    "/",                                   # the page itself (no-cache, Streamlit's)
    "/static/js/no-such-file.js",          # unknown: Streamlit's own 404 / fallback
    "/static/../index.html",               # traversal: never joined onto a folder
    "/static/js/../../index.html",
    "/static/%2e%2e/index.html",
    "/index.html",
    "/_stcore/health",
    "/budget-split",
])
def test_anything_but_a_known_static_file_goes_on_to_streamlit(path: str) -> None:
    assert _call(path)[0] == "streamlit"


def test_range_requests_and_other_methods_go_on_to_streamlit() -> None:
    name = f"/static/js/{_a_bundle().name}"
    assert _call(name, headers=[(b"range", b"bytes=0-9")])[0] == "streamlit"
    assert _call(name, method="POST")[0] == "streamlit"


def test_websockets_go_on_to_streamlit() -> None:
    sent: list[str] = []

    async def streamlit(scope: dict, receive: Any, send: Any) -> None:
        sent.append(scope["type"])

    async def nothing(*_: Any) -> Any:
        return None

    scope = {"type": "websocket", "path": "/_stcore/stream", "headers": []}
    _run(StaticFilesFromMemory(streamlit)(scope, nothing, nothing))
    assert sent == ["websocket"]


def test_the_modules_loaded_at_start_are_the_ones_the_pages_import() -> None:
    from ui.server import app_modules

    names = app_modules(Path(__file__).resolve().parents[2])
    # pages/budget-split.py: `from ui.charts import fan_chart, ...` (a module and its names)
    assert "ui.charts" in names and "ui.splits" in names and "ui.state" in names
    assert not any(name.endswith(".fan_chart") or name.endswith(".current") for name in names)
    assert all(name.split(".")[0] in ("ui", "sim") for name in names)


def test_the_server_collects_garbage_now_and_then(monkeypatch: pytest.MonkeyPatch) -> None:
    import ui.runs
    import ui.server

    calls: list[str] = []
    monkeypatch.setattr(ui.server, "COLLECT_EVERY_S", 0.01)
    monkeypatch.setattr(ui.server.gc, "collect", lambda *_: calls.append("collect") or 0)
    monkeypatch.setattr(ui.runs, "return_free_memory", lambda: calls.append("trim"))

    async def for_a_while() -> None:
        task = asyncio.create_task(ui.server._collect_now_and_then())
        await asyncio.sleep(0.2)
        task.cancel()

    _run(for_a_while())
    assert calls[:4] == ["collect", "trim", "collect", "trim"]
