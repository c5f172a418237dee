"""The built console (web/dist) on its own origin, as a browser gets it: static files, the SPA
fallback to index.html, and the config.json the platform would write."""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
from collections.abc import Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any


class _ConsoleHandler(http.server.SimpleHTTPRequestHandler):
    config: bytes = b"{}"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the journeys report what matters."""

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/config.json":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(self.config)))
            self.end_headers()
            self.wfile.write(self.config)
            return
        if not Path(self.translate_path(path)).is_file():
            self.path = "/index.html"  # SPA fallback: the router reads the address
        super().do_GET()


@contextlib.contextmanager
def serve_console(dist: Path, config: Mapping[str, Any]) -> Iterator[str]:
    """web/dist served on 127.0.0.1 (a free port) with `config` as /config.json; its URL."""
    handler = type("Handler", (_ConsoleHandler,), {"config": json.dumps(config).encode()})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(handler, directory=str(dist))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
