"""The web console on the local platform: built from web/ when its sources changed (`make run`),
then served from web/dist on an origin of its own, with the `/config.json` the platform writes.

The console reads its settings from `/config.json` (in AWS the console stack writes the same
file from the stacks' outputs): `apiUrl`, `apiUrls` (the API of each first path segment:
locally one gateway serves them all), `region`, `userPoolId`, `userPoolClientId`,
`cognitoEndpoint` (where the browser calls Cognito: moto's server locally).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import mimetypes
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

log = logging.getLogger("saas_local.console")

CONSOLE_DIR = "web"
# What a build reads: a change to any of them makes `make run` build again.
SOURCES = (
    "src",
    "public",
    "index.html",
    "package.json",
    "package-lock.json",
    "tsconfig.json",
    "tsconfig.app.json",
    "tsconfig.node.json",
    "vite.config.ts",
    "vite.config.js",
)
STAMP = Path(".local") / "console-build.json"
# The collections the API paths start with, each answered by one service's API in AWS.
API_COLLECTIONS = {
    "tenants": "tenant",
    "users": "tenant",
    "orders": "order",
    "products": "product",
    "usage": "metering",  # GET /tenants/{id}/usage is the metering API's (the console maps it)
}


class ConsoleBuildError(RuntimeError):
    """npm failed: the message says which step."""


def _digest(paths: Iterable[Path], base: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(str(path.relative_to(base)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def sources_digest(web: Path) -> str:
    """One hash of every file a build reads (names and contents)."""
    files: list[Path] = []
    for name in SOURCES:
        path = web / name
        if path.is_dir():
            files += [p for p in path.rglob("*") if p.is_file()]
        elif path.is_file():
            files.append(path)
    return _digest(files, web)


def build(
    root: Path,
    run: Callable[[list[str], Path], None] | None = None,
    npm: str | None = None,
) -> str:
    """Build web/dist when the sources changed since the last build (`npm ci` first when
    node_modules is missing or package-lock.json changed). Returns what was done, in words;
    ConsoleBuildError when npm fails. Without npm or web/ there is nothing to build (said so)."""
    web = root / CONSOLE_DIR
    if not (web / "package.json").is_file():
        return f"no console sources ({CONSOLE_DIR}/package.json): nothing to build"
    stamp_file = root / STAMP
    try:
        stamp = json.loads(stamp_file.read_text())
    except (OSError, ValueError):
        stamp = {}
    lock = web / "package-lock.json"
    lock_digest = _digest([lock], web) if lock.is_file() else ""
    sources = sources_digest(web)
    need_install = not (web / "node_modules").is_dir() or stamp.get("lock") != lock_digest
    need_build = need_install or stamp.get("sources") != sources
    need_build = need_build or not (web / "dist" / "index.html").is_file()
    if not need_build:
        return f"console up to date ({CONSOLE_DIR}/dist)"
    npm = npm or shutil.which("npm")
    if npm is None:
        return "npm not found: the console is not built (install Node.js 20 or later)"
    run = run or _run
    done = []
    if need_install:
        run([npm, "ci", "--no-audit", "--no-fund"], web)
        done.append("npm ci")
    run([npm, "run", "build"], web)
    done.append("npm run build")
    stamp_file.parent.mkdir(parents=True, exist_ok=True)
    stamp_file.write_text(json.dumps({"sources": sources, "lock": lock_digest}) + "\n")
    return f"console built ({', '.join(done)})"


def _run(command: list[str], cwd: Path) -> None:
    try:
        subprocess.run(command, cwd=cwd, check=True)
    except subprocess.CalledProcessError as exc:
        raise ConsoleBuildError(f"{' '.join(command[1:])} failed in {cwd} ({exc})") from None


def config_document(
    *, api_url: str, region: str, user_pool_id: str, user_pool_client_id: str, cognito: str
) -> dict[str, Any]:
    """What /config.json says (the same keys the console stack writes in AWS)."""
    return {
        "apiUrl": api_url,
        "apiUrls": dict.fromkeys(API_COLLECTIONS, api_url),
        "region": region,
        "userPoolId": user_pool_id,
        "userPoolClientId": user_pool_client_id,
        "cognitoEndpoint": cognito,
    }


def content_security_policy(connect: Iterable[str]) -> str:
    """Only the console's own origin, plus the APIs and Cognito to call (as in AWS: the console
    stack's response-headers policy). Styles may be inline: UI libraries set them at run time."""
    origins = " ".join(dict.fromkeys(o for o in connect if o))
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self'",
            f"connect-src 'self' {origins}".strip(),
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".woff2": "font/woff2"}


class _ConsoleHandler(BaseHTTPRequestHandler):
    console: ConsoleServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve(body=True)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def _serve(self, body: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        if path == "/config.json":
            data = self.console.config_bytes()
            self._send(200, "application/json", data, "no-store", body)
            return
        file = self.console.file_for(path)
        if file is None:
            self._send(404, "text/plain; charset=utf-8", b"Not Found", "no-store", body)
            return
        kind = _TYPES.get(file.suffix) or mimetypes.guess_type(file.name)[0]
        kind = kind or "application/octet-stream"
        if kind.startswith("text/") or kind == "application/json":
            kind += "; charset=utf-8"
        immutable = path.startswith("/assets/") and file.name != "index.html"
        cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
        self._send(200, kind, file.read_bytes(), cache, body)

    def _send(self, status: int, kind: str, data: bytes, cache: str, body: bool) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", cache)
            for name, value in self.console.security_headers().items():
                self.send_header(name, value)
            self.end_headers()
            if body:
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


class ConsoleServer:
    """web/dist on host:port (bound at construction, so the platform knows the console's origin
    before it deploys the APIs that allow it); /config.json from `configure`; any other path
    without a file is the single-page app's own route: index.html."""

    def __init__(self, dist: Path, host: str = "127.0.0.1", port: int = 8081) -> None:
        self.dist = dist.resolve()
        self._config = b"{}"
        self._headers: dict[str, str] = {}
        handler = type("ConsoleHandler", (_ConsoleHandler,), {"console": self})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, name="saas-console"
        )
        self._started = False

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def configure(self, config: Mapping[str, Any], connect: Iterable[str]) -> None:
        self._config = json.dumps(dict(config), indent=2).encode()
        self._headers = {
            "Content-Security-Policy": content_security_policy(connect),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "strict-origin-when-cross-origin",
            "X-Frame-Options": "DENY",
        }

    def config_bytes(self) -> bytes:
        return self._config

    def security_headers(self) -> Mapping[str, str]:
        return self._headers

    def file_for(self, path: str) -> Path | None:
        """The file of web/dist the path names; index.html for any other path, an app route
        (as CloudFront's error responses do in AWS), except a missing build asset (`/assets/`:
        a stale page asking for a file of an earlier build) or a path outside web/dist: None."""
        relative = path.lstrip("/")
        if relative:
            candidate = (self.dist / relative).resolve()
            if not candidate.is_relative_to(self.dist):
                return None
            if candidate.is_file():
                return candidate
            if relative.startswith("assets/"):
                return None
        index = self.dist / "index.html"
        return index if index.is_file() else None

    def start(self) -> None:
        self._thread.start()
        self._started = True

    def stop(self) -> None:
        if self._started:
            self._server.shutdown()
            self._thread.join()
            self._started = False
        with contextlib.suppress(OSError):
            self._server.server_close()
