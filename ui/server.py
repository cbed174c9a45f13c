"""What serve.py adds to Streamlit's server: static files from memory, modules loaded at start.

**Static files** (Streamlit's JavaScript bundles, fonts, icons). A browser with an empty cache
fetches about 160 of them (6 MB) for one Funnel Lab page. Through Streamlit's stack (seven ASGI
middleware layers, then Starlette's FileResponse with a worker-thread hop for each stat, open
and 64 KB read) each cost the server about 1.7 ms of CPU, 0.28 CPU-s per new browser: more
than the page's own script run. Here a file is read once, on its first request, and then
answered from memory in one response; the headers are the ones Streamlit sends (hashed file
names, cached for a year). Anything else (other paths, methods, Range requests, files not in
Streamlit's static folder) goes on to Streamlit.

**Modules at start.** The first page of a fresh server used to import the app's modules (the
ui/ and sim/ packages, pandas, Altair, SciPy: 2-4 s) inside its first script run. The server
now imports what app.py and the pages import before it accepts connections, then moves
everything imported to the collector's permanent generation (`gc.freeze`): those objects are
never garbage, and full collections no longer walk them.

**A collection every 30 s.** Streamlit's full collection after every script run is off
(`runner.postScriptGC` in .streamlit/config.toml: 46% of a cached page's server time). Python's
own collector still runs, but rarely reaches the oldest generation, where a closed session's
cycles end up; so the server collects every `COLLECT_EVERY_S` seconds itself and gives the
freed memory back to the system.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import gc
import importlib
import importlib.util
import mimetypes
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from streamlit import config, file_util
from streamlit.logger import get_logger

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Streamlit's header for its content-hashed bundles (starlette_server_config's value).
CACHE_CONTROL = b"public, immutable, max-age=31536000"
#: Seconds between the server's own garbage collections (module doc).
COLLECT_EVERY_S = 30.0


class StaticFilesFromMemory:
    """ASGI middleware: GET and HEAD of `/static/...` answered from an in-memory copy."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        root = Path(file_util.get_static_dir())
        base = str(config.get_option("server.baseUrlPath") or "").strip("/")
        self.prefix = f"/{base}/" if base else "/"
        # Only the files that exist under static/ at start are ever served: the request's
        # path is looked up in this table, never joined onto a folder.
        self.known = {
            "static/" + path.relative_to(root / "static").as_posix(): path
            for path in (root / "static").rglob("*") if path.is_file()
        }
        self.answers: dict[str, tuple[bytes, list[tuple[bytes, bytes]]]] = {}

    def _answer(self, name: str) -> tuple[bytes, list[tuple[bytes, bytes]]] | None:
        answer = self.answers.get(name)
        if answer is None and name in self.known:
            path = self.known[name]
            try:
                body = path.read_bytes()
            except OSError:
                return None
            kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
            headers = [(b"content-type", kind.encode("latin-1")),
                       (b"content-length", str(len(body)).encode("latin-1")),
                       (b"cache-control", CACHE_CONTROL),
                       (b"accept-ranges", b"bytes")]
            answer = self.answers[name] = (body, headers)
        return answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            path: str = scope["path"]
            if path.startswith(self.prefix + "static/") and not any(
                    key == b"range" for key, _ in scope["headers"]):
                answer = self._answer(path[len(self.prefix):])
                if answer is not None:
                    body, headers = answer
                    await send({"type": "http.response.start", "status": 200,
                                "headers": headers})
                    await send({"type": "http.response.body",
                                "body": body if scope["method"] == "GET" else b""})
                    return
        await self.app(scope, receive, send)


def app_modules(root: Path) -> list[str]:
    """The ui/ and sim/ modules that app.py and the page scripts in pages/ import, sorted."""
    names: set[str] = set()
    for script in [root / "app.py", *sorted((root / "pages").glob("*.py"))]:
        for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                found = [alias.name for alias in node.names]
            else:
                continue
            names.update(name for name in found if name.split(".")[0] in ("ui", "sim"))
    # `from ui.chart_specs import show_chart` names a function, not a module: keep modules only.
    return sorted(name for name in names if _is_module(name))


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # a name inside a module (its parent is not a package)
        return False


async def _collect_now_and_then() -> None:
    """Collect garbage and return freed memory every COLLECT_EVERY_S seconds, forever."""
    from ui.runs import return_free_memory  # imported with the app's modules, not before

    while True:
        await asyncio.sleep(COLLECT_EVERY_S)
        gc.collect()
        return_free_memory()


@contextlib.asynccontextmanager
async def load_app_modules(_app: object) -> AsyncIterator[None]:
    """st.App lifespan: import the app's modules, start loading the compiled engine and the
    warm-up, freeze the modules out of the collector, and collect the rest every
    COLLECT_EVERY_S seconds while the server runs."""
    started = time.perf_counter()
    names = app_modules(Path(__file__).resolve().parent.parent)
    for name in names:
        importlib.import_module(name)
    # The compiled engine loads in the background (Numba's disk cache: about 2 s; a compile
    # after a code change: minutes); pages run on the NumPy engine until it is ready. Then
    # the warm-up (unless FUNNEL_LAB_WARM_UP=0) opens every page of the first three library
    # scenarios once without a browser (the shipped three: about 55 s on 2 cores), so that the first
    # link of the day finds its page computed. Pages may then ask for their likely next views
    # (ui.prefetch) unless FUNNEL_LAB_PREFETCH=0.
    warmup = importlib.import_module("ui.warmup")
    warmup.start_engine()
    warmup.start(asyncio.get_running_loop())
    importlib.import_module("ui.prefetch").attach(asyncio.get_running_loop())
    gc.collect()
    gc.freeze()
    # The logger is made here, not at import: serve.py is imported before Streamlit reads
    # its logger.level, and get_logger fixes a logger's level when it first makes it.
    get_logger(__name__).info("Loaded %d app modules in %.1f s; %d objects frozen out of the "
                              "collector", len(names), time.perf_counter() - started,
                              gc.get_freeze_count())
    collector = asyncio.create_task(_collect_now_and_then())
    try:
        yield
    finally:
        collector.cancel()
