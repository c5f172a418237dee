"""The web console on the local platform: built when its sources changed, served from web/dist on
its own origin with the platform's /config.json, and the APIs answer that origin's CORS."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from saas_local import console
from saas_local.console import ConsoleBuildError, ConsoleServer
from saas_local.testing import start_platform

from .conftest import FIXTURES, ROOT

# --- building: only when the sources changed ------------------------------------------------


class Npm:
    """Stands in for npm: records each command and writes what `npm run build` would."""

    def __init__(self, fail: str | None = None) -> None:
        self.commands: list[list[str]] = []
        self.fail = fail

    def __call__(self, command: list[str], cwd: Path) -> None:
        self.commands.append(command[1:])
        if self.fail and self.fail in command:
            raise ConsoleBuildError(f"{' '.join(command[1:])} failed")
        if command[1] == "ci":
            (cwd / "node_modules").mkdir(exist_ok=True)
        if command[1:] == ["run", "build"]:
            (cwd / "dist").mkdir(exist_ok=True)
            (cwd / "dist" / "index.html").write_text("<!doctype html><title>console</title>")


@pytest.fixture
def web(tmp_path: Path) -> Path:
    web = tmp_path / "web"
    (web / "src").mkdir(parents=True)
    (web / "src" / "main.tsx").write_text("export {}\n")
    (web / "index.html").write_text("<!doctype html>")
    (web / "package.json").write_text("{}")
    (web / "package-lock.json").write_text('{"lockfileVersion": 3}')
    return web


def test_the_first_build_installs_then_builds(web: Path) -> None:
    npm = Npm()

    said = console.build(web.parent, run=npm, npm="npm")

    assert npm.commands == [["ci", "--no-audit", "--no-fund"], ["run", "build"]]
    assert said == "console built (npm ci, npm run build)"
    assert (web / "dist" / "index.html").is_file()


def test_nothing_is_built_again_until_a_source_changes(web: Path) -> None:
    npm = Npm()
    console.build(web.parent, run=npm, npm="npm")
    npm.commands.clear()

    unchanged = console.build(web.parent, run=npm, npm="npm")
    (web / "src" / "main.tsx").write_text("export const changed = 1\n")
    changed = console.build(web.parent, run=npm, npm="npm")

    assert unchanged == "console up to date (web/dist)"
    assert changed == "console built (npm run build)"
    assert npm.commands == [["run", "build"]]


@pytest.mark.parametrize("change", ["lock", "node_modules"])
def test_a_changed_lock_or_missing_node_modules_installs_again(web: Path, change: str) -> None:
    npm = Npm()
    console.build(web.parent, run=npm, npm="npm")
    npm.commands.clear()
    if change == "lock":
        (web / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": {}}')
    else:
        (web / "node_modules").rmdir()

    console.build(web.parent, run=npm, npm="npm")

    assert npm.commands == [["ci", "--no-audit", "--no-fund"], ["run", "build"]]


def test_a_deleted_dist_is_built_again(web: Path) -> None:
    npm = Npm()
    console.build(web.parent, run=npm, npm="npm")
    (web / "dist" / "index.html").unlink()
    npm.commands.clear()

    console.build(web.parent, run=npm, npm="npm")

    assert npm.commands == [["run", "build"]]


def test_a_failed_build_is_built_again_next_time(web: Path) -> None:
    with pytest.raises(ConsoleBuildError, match="run build failed"):
        console.build(web.parent, run=Npm(fail="build"), npm="npm")
    npm = Npm()

    console.build(web.parent, run=npm, npm="npm")

    assert npm.commands[-1] == ["run", "build"]


def test_without_npm_or_sources_nothing_is_built_and_it_says_so(
    web: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console.shutil, "which", lambda _name: None)

    assert "npm not found" in console.build(web.parent, run=Npm())
    assert "nothing to build" in console.build(tmp_path / "elsewhere", run=Npm())


# --- serving web/dist ----------------------------------------------------------------------


def _get(url: str, headers: dict[str, str] | None = None, method: str = "GET"):
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


@pytest.fixture
def served(tmp_path: Path):
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>console</title>")
    (dist / "assets" / "index-abc123.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("not served")
    server = ConsoleServer(dist, "127.0.0.1", 0)
    server.configure({"apiUrl": "http://127.0.0.1:9"}, connect=["http://127.0.0.1:9", "http://c"])
    server.start()
    yield server
    server.stop()


def test_files_of_dist_are_served_with_their_type_and_caching(served: ConsoleServer) -> None:
    status, headers, body = _get(served.url + "/assets/index-abc123.js")

    assert (status, body) == (200, b"console.log(1)")
    assert headers["Content-Type"].startswith("text/javascript")
    assert "immutable" in headers["Cache-Control"]


def test_an_app_route_is_the_index_page(served: ConsoleServer) -> None:
    for path in ("/", "/tenants", "/tenants/t-1?tab=config", "/users/a%40b.test"):
        status, headers, body = _get(served.url + path)
        assert (status, body) == (200, b"<!doctype html><title>console</title>"), path
        assert headers["Cache-Control"] == "no-cache"


def test_a_missing_asset_or_a_path_outside_dist_is_404(served: ConsoleServer) -> None:
    assert _get(served.url + "/assets/gone-123.js")[0] == 404
    assert _get(served.url + "/..%2Fsecret.txt")[0] == 404
    assert _get(served.url + "/../secret.txt")[2] != b"not served"


def test_config_json_is_the_platforms_and_never_cached(served: ConsoleServer) -> None:
    status, headers, body = _get(served.url + "/config.json")

    assert (status, json.loads(body)) == (200, {"apiUrl": "http://127.0.0.1:9"})
    assert headers["Cache-Control"] == "no-store"


def test_every_answer_has_the_content_security_policy(served: ConsoleServer) -> None:
    _, headers, _ = _get(served.url + "/tenants")
    policy = dict(
        part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";")
    )

    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["connect-src"] == "'self' http://127.0.0.1:9 http://c"
    assert policy["frame-ancestors"] == "'none'"
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_the_config_document_has_the_agreed_keys() -> None:
    document = console.config_document(
        api_url="http://api",
        region="us-east-1",
        user_pool_id="p",
        user_pool_client_id="c",
        cognito="http://moto",
    )

    assert document == {
        "apiUrl": "http://api",
        "apiUrls": {
            "tenants": "http://api",
            "users": "http://api",
            "orders": "http://api",
            "products": "http://api",
            "usage": "http://api",
        },
        "region": "us-east-1",
        "userPoolId": "p",
        "userPoolClientId": "c",
        "cognitoEndpoint": "http://moto",
    }


# --- the platform: the console on its own origin, the APIs answering its CORS ----------------


@pytest.fixture(scope="module")
def console_platform(tmp_path_factory: pytest.TempPathFactory):
    """The fixture services with a built console (a web/dist of its own), state written."""
    root = tmp_path_factory.mktemp("root")
    (root / "web" / "dist").mkdir(parents=True)
    (root / "web" / "dist" / "index.html").write_text("<!doctype html><title>console</title>")
    templates = [FIXTURES / "gatekeeper/template.yaml", FIXTURES / "shop/template.yaml"]
    with start_platform(
        root,
        templates,
        platform_template=ROOT / "infra/platform.yaml",
        region_map={"us": "us-east-1"},
        console=True,
        write_state=True,
        state_file=root / ".local" / "platform.json",
    ) as platform:
        yield platform


@pytest.mark.slow
def test_the_console_is_served_with_the_platforms_config(console_platform) -> None:
    url = console_platform.console_url
    assert url is not None
    assert url.startswith("http://127.0.0.1:")

    status, _, body = _get(url + "/config.json")
    page = _get(url + "/tenants")
    state = json.loads(Path(console_platform.platform.config.state_file).read_text())

    assert status == 200
    assert json.loads(body) == {
        "apiUrl": console_platform.api_url,
        "apiUrls": dict.fromkeys(
            ("tenants", "users", "orders", "products", "usage"), console_platform.api_url
        ),
        "region": "us-east-1",
        "userPoolId": console_platform.user_pool_id,
        "userPoolClientId": console_platform.user_pool_client_id,
        "cognitoEndpoint": console_platform.aws_endpoint_url,
    }
    assert page[0] == 200
    assert page[2].startswith(b"<!doctype html>")
    assert state["console_url"] == url


@pytest.mark.slow
def test_the_api_answers_the_consoles_preflight_without_the_authorizer(console_platform) -> None:
    origin = console_platform.console_url

    answer = console_platform.api(
        "OPTIONS",
        "/items/42",
        headers={"Origin": origin, "Access-Control-Request-Method": "PUT"},
    )

    assert answer.status == 200
    assert answer.headers["Access-Control-Allow-Origin"] == origin
    assert answer.headers["Access-Control-Allow-Methods"] == "GET,PUT,OPTIONS"
    assert answer.headers["Access-Control-Allow-Headers"] == "Authorization,Content-Type"


@pytest.mark.slow
def test_the_gateways_own_errors_carry_the_consoles_origin(console_platform) -> None:
    origin = console_platform.console_url

    no_token = console_platform.api("GET", "/items/42", headers={"Origin": origin})
    no_method = console_platform.api(
        "DELETE", "/items/42", headers={"Origin": origin, "Authorization": "Bearer allow:t1"}
    )

    assert no_token.status == 401
    assert no_token.headers["Access-Control-Allow-Origin"] == origin
    assert no_token.headers["X-Gateway-Response"] == "unauthorized"  # the specific type first
    assert no_method.status == 403
    assert no_method.headers["Access-Control-Allow-Origin"] == origin  # DEFAULT_4XX
    nowhere = console_platform.api("GET", "/no/such/path", headers={"Origin": origin})
    assert nowhere.status == 404
    assert nowhere.headers["Access-Control-Allow-Origin"] == origin


def test_console_true_without_a_build_refuses_to_start(tmp_path: Path) -> None:
    from saas_local.platform import LocalPlatform, LocalPlatformError, PlatformConfig

    platform = LocalPlatform(PlatformConfig(root=tmp_path, console=True, console_port=0))

    with pytest.raises(LocalPlatformError, match=r"web/dist/index\.html missing"):
        platform.start()
    assert platform.console_server is None


def test_without_a_build_the_console_is_left_out_and_said_so(tmp_path: Path) -> None:
    from saas_local.platform import LocalPlatform, PlatformConfig

    platform = LocalPlatform(PlatformConfig(root=tmp_path, console_port=0))
    platform._bind_console()

    assert platform.console_server is None
    assert "not built" in platform.console_note
    assert platform.cors_origin == "*"
