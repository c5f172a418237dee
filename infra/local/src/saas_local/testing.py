"""pytest plugin (registered through the `pytest11` entry point): the local platform as a fixture.

    def test_something(local_platform):
        token = local_platform.login(*local_platform.system_admin)
        response = local_platform.api("GET", "/tenants", token=token)
        assert response.status == 200

`local_platform` is one platform per test session, started on free ports with the repository's
real templates (infra/platform.yaml and services/*/template.yaml). `start_platform(...)` starts
one with other templates (for example small fixture templates) as a context manager.
"""

from __future__ import annotations

import contextlib
import json as jsonlib
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

# A client's patience: cold starts of several functions at once on a loaded 2-core CI runner
# can take tens of seconds.
API_TIMEOUT_SECONDS = 180


def repository_root() -> Path:
    """The workspace root: the nearest parent holding infra/platform.yaml."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "infra" / "platform.yaml").is_file():
            return parent
    for parent in Path.cwd().resolve().parents:
        if (parent / "infra" / "platform.yaml").is_file():
            return parent
    return Path.cwd()


@dataclass(frozen=True)
class ApiResponse:
    status: int
    headers: Mapping[str, str]
    text: str

    @property
    def status_code(self) -> int:
        return self.status

    def json(self) -> Any:
        return jsonlib.loads(self.text)


class PlatformHandle:
    """What tests use: HTTP through the gateway, AWS clients, users and tokens, waiting."""

    def __init__(self, platform: Any) -> None:
        self.platform = platform
        self.info: dict[str, Any] = platform.info

    @property
    def api_url(self) -> str:
        return str(self.info["api_url"])

    @property
    def console_url(self) -> str | None:
        """The web console's URL (serving web/dist and /config.json), None when it is not served
        (not built, or started with console=False)."""
        url = self.info.get("console_url")
        return str(url) if url else None

    @property
    def aws_endpoint_url(self) -> str:
        return str(self.info["aws_endpoint_url"])

    @property
    def region(self) -> str:
        return str(self.info["region"])

    @property
    def user_pool_id(self) -> str:
        return str(self.info["user_pool_id"])

    @property
    def user_pool_client_id(self) -> str:
        return str(self.info["user_pool_client_id"])

    @property
    def system_admin(self) -> tuple[str, str]:
        admin = self.info["system_admin"]
        return admin["username"], admin["password"]

    def api(
        self,
        method: str,
        path: str,
        token: str | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        """One HTTP request through the gateway. `token` goes in `Authorization: Bearer <token>`."""
        all_headers = dict(headers or {})
        data = None
        if json is not None:
            data = jsonlib.dumps(json).encode()
            all_headers.setdefault("Content-Type", "application/json")
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(
            self.api_url + path, data=data, method=method.upper(), headers=all_headers
        )
        try:
            with urllib.request.urlopen(request, timeout=API_TIMEOUT_SECONDS) as response:
                return ApiResponse(
                    response.status, dict(response.headers), response.read().decode()
                )
        except urllib.error.HTTPError as error:
            with error:
                return ApiResponse(error.code, dict(error.headers), error.read().decode())

    def client(self, service: str, region: str | None = None) -> Any:
        """A boto3 client on the local platform (home region by default)."""
        return self.platform.client(service, region)

    def login(self, username: str, password: str, new_password: str | None = None) -> str:
        """The user's Cognito ID token (USER_PASSWORD_AUTH); answers NEW_PASSWORD_REQUIRED with
        `new_password` when the user still has a temporary password."""
        cognito = self.client("cognito-idp")
        answer = cognito.initiate_auth(
            ClientId=self.user_pool_client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
        if answer.get("ChallengeName") == "NEW_PASSWORD_REQUIRED":
            if new_password is None:
                raise AssertionError(f"{username} must set a new password: pass new_password")
            answer = cognito.respond_to_auth_challenge(
                ClientId=self.user_pool_client_id,
                ChallengeName="NEW_PASSWORD_REQUIRED",
                Session=answer["Session"],
                ChallengeResponses={"USERNAME": username, "NEW_PASSWORD": new_password},
            )
        return str(answer["AuthenticationResult"]["IdToken"])

    def create_user(
        self, username: str, password: str, group: str, tenant_id: str | None = None
    ) -> None:
        """A confirmed user with a permanent password, in `group`, of `tenant_id` if given."""
        cognito = self.client("cognito-idp")
        attributes = [{"Name": "custom:tenant_id", "Value": tenant_id}] if tenant_id else []
        cognito.admin_create_user(
            UserPoolId=self.user_pool_id,
            Username=username,
            UserAttributes=attributes,
            MessageAction="SUPPRESS",
            TemporaryPassword=password,
        )
        cognito.admin_set_user_password(
            UserPoolId=self.user_pool_id, Username=username, Password=password, Permanent=True
        )
        cognito.admin_add_user_to_group(
            UserPoolId=self.user_pool_id, Username=username, GroupName=group
        )

    @staticmethod
    def wait_until(predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.05) -> T:
        """The predicate's first truthy answer; AssertionError when none came in `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise AssertionError(f"condition not met within {timeout} s")
            time.sleep(interval)


# The tier limits of a platform a test starts without its own: high enough that no test's polling
# is throttled (API Gateway's account ceiling: 10,000 requests/s, burst 5,000). A test of the
# limits passes its own (tests/e2e/test_limits.py); `make run` keeps the template's defaults.
UNTHROTTLED = {
    f"{tier}{name}": value
    for tier in ("Basic", "Premium")
    for name, value in (
        ("RateLimit", "10000"),
        ("BurstLimit", "5000"),
        ("DailyQuota", "100000000"),
    )
}


def platform_parameters(visibility_timeout: int = 10, **platform: str) -> dict[str, dict[str, str]]:
    """Parameters for a run that injects failures: no tier limits in the way, and a consumer
    queue's visibility timeout short enough that a message a failed or crashed function left
    comes back within seconds (180 s as deployed); `platform` sets more of the platform stack's
    parameters (MaxReceiveCount...)."""
    return {
        "platform": {
            **UNTHROTTLED,
            "ConsumerVisibilityTimeout": str(visibility_timeout),
            **platform,
        }
    }


@contextlib.contextmanager
def start_platform(
    root: Path | None = None,
    service_templates: Sequence[Path] | None = None,
    platform_template: Path | None = None,
    region_map: Mapping[str, str] | None = None,
    **options: Any,
) -> Iterator[PlatformHandle]:
    """A local platform on free ports; stopped (nothing left running) when the block ends.

    The web console is served (`console_url`) when web/dist is built; `console=True` requires it
    (an error when it is not built), `console=False` leaves it out.

    It starts empty and keeps nothing, unless the test asks for state: `state_dir=<folder>` saves
    the platform's data there at stop (and every `snapshot_seconds`), and a start on a folder
    holding saved data resumes it (`info["state"]["restored"]`); `fresh=True` starts empty
    anyway."""
    from saas_local.platform import DEFAULT_REGION_MAP, LocalPlatform, PlatformConfig

    settings: dict[str, Any] = {
        "parameters": {"platform": UNTHROTTLED},
        "platform_template": platform_template,
        "service_templates": service_templates,
        "region_map": dict(region_map or DEFAULT_REGION_MAP),
        "api_port": 0,
        "aws_port": 0,
        "console_port": 0,
        "write_state": False,
    }
    settings.update(options)
    config = PlatformConfig(root=root or repository_root(), **settings)
    platform = LocalPlatform(config)
    platform.start()
    try:
        yield PlatformHandle(platform)
    finally:
        platform.stop()


@pytest.fixture(scope="session")
def local_platform() -> Iterator[PlatformHandle]:
    """The whole platform, with the repository's real templates, for the test session."""
    with start_platform() as handle:
        yield handle
