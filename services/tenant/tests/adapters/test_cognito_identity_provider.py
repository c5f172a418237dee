"""The Cognito adapter against moto's server: a user created for a tenant logs in with the
invitation's temporary password, must set a new one, and its ID token passes the authorizer's
verifier (keys from the pool's JWKS endpoint over HTTP)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from tenant_testkit import deployed_route_permissions

from tenant_service.adapters.cognito_identity_provider import CognitoIdentityProvider
from tenant_service.adapters.file_invitation_sender import FileInvitationSender
from tenant_service.adapters.http_jwks_fetcher import HttpJwksFetcher
from tenant_service.adapters.memory_route_permissions import MemoryRoutePermissions
from tenant_service.adapters.pyjwt_token_verifier import PyJwtTokenVerifier
from tenant_service.adapters.system_clock import SystemClock
from tenant_service.app.authorize import Authorizer, RouteTable
from tenant_service.domain.errors import UserAlreadyExists, UserNotFound
from tenant_service.domain.users import UserRole
from tenant_service.ports.tenant_directory import TenantStanding
from tenant_service.ports.token_verifier import InvalidToken

REGION = "us-east-1"
API = "arn:aws:execute-api:us-east-1:123456789012:api1/prod"


class FixedDirectory:
    def __init__(self, standing: TenantStanding) -> None:
        self._standing = standing

    def standing(self, tenant_id: str) -> TenantStanding | None:
        return self._standing if tenant_id == self._standing.tenant_id else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def cognito(endpoint: str) -> Any:
    return boto3.client(
        "cognito-idp",
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def pool(cognito: Any) -> dict[str, str]:
    """The platform's pool, as infra/platform.yaml declares it."""
    pool_id = cognito.create_user_pool(
        PoolName="saas-users",
        Policies={
            "PasswordPolicy": {
                "MinimumLength": 12,
                "RequireLowercase": True,
                "RequireUppercase": True,
                "RequireNumbers": True,
                "RequireSymbols": False,
            }
        },
        Schema=[{"Name": "tenant_id", "AttributeDataType": "String", "Mutable": False}],
    )["UserPool"]["Id"]
    for group in ("SystemAdmin", "TenantAdmin", "TenantUser"):
        cognito.create_group(UserPoolId=pool_id, GroupName=group)
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName="saas-api", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    return {"pool_id": pool_id, "client_id": client_id}


def _login(cognito: Any, client_id: str, username: str, password: str) -> dict[str, Any]:
    answer: dict[str, Any] = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )
    return answer


def test_a_created_user_is_invited_and_must_set_a_password_on_first_login(
    cognito: Any, pool: dict[str, str], endpoint: str, tmp_path: Path
) -> None:
    # Given the identity adapter and local invitations
    identity = CognitoIdentityProvider(cognito, user_pool_id=pool["pool_id"], send_invitation=False)
    outbox = FileInvitationSender(tmp_path / "outbox")

    # When a TenantAdmin is created for tenant t-acme and invited
    invitation = identity.create_user(
        tenant_id="t-acme", email="boss@acme.test", role=UserRole.TENANT_ADMIN
    )
    outbox.send(invitation)

    # Then the invitation file says what Cognito would have emailed
    (path,) = (tmp_path / "outbox").glob("*.json")
    written = json.loads(path.read_text())
    assert written == {
        "to": "boss@acme.test",
        "username": invitation.username,
        "temporary_password": invitation.temporary_password,
        "tenant_id": "t-acme",
    }
    # And the first login asks for a new password
    first = _login(cognito, pool["client_id"], written["username"], written["temporary_password"])
    assert first["ChallengeName"] == "NEW_PASSWORD_REQUIRED"

    # And once it is set, the ID token carries the tenant and the group, and verifies
    tokens = cognito.respond_to_auth_challenge(
        ClientId=pool["client_id"],
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=first["Session"],
        ChallengeResponses={"USERNAME": written["username"], "NEW_PASSWORD": "Another-Passw0rd"},
    )["AuthenticationResult"]
    verifier = PyJwtTokenVerifier(
        jwks=HttpJwksFetcher(f"{endpoint}/{pool['pool_id']}/.well-known/jwks.json"),
        issuer=f"https://cognito-idp.{REGION}.amazonaws.com/{pool['pool_id']}",
        audiences=[pool["client_id"]],
        monotonic=lambda: 0.0,
    )
    claims = verifier.verify(tokens["IdToken"])
    assert claims["custom:tenant_id"] == "t-acme"
    assert claims["cognito:groups"] == ["TenantAdmin"]
    assert claims["token_use"] == "id"

    # And the authorizer lets that admin of an ACTIVE tenant read its tenant, not list tenants
    directory = FixedDirectory(TenantStanding("t-acme", "ACTIVE", "basic", "us"))
    routes = RouteTable(MemoryRoutePermissions(deployed_route_permissions()), SystemClock(), 60)
    policy = Authorizer(verifier, directory, routes).authorize(
        "Bearer " + tokens["IdToken"], f"{API}/GET/tenants/t-acme"
    )
    allowed = [r for st in policy["policyDocument"]["Statement"] for r in st["Resource"]]
    assert f"{API}/GET/tenants/*" in allowed
    assert f"{API}/GET/tenants" not in allowed
    assert policy["context"]["tenant_id"] == "t-acme"

    # And the access token of the same login is refused where an ID token is required
    with pytest.raises(InvalidToken, match=r"aud|token_use"):  # no aud in access tokens
        verifier.verify(tokens["AccessToken"])


def test_an_email_already_in_the_pool_is_refused(cognito: Any, pool: dict[str, str]) -> None:
    identity = CognitoIdentityProvider(cognito, user_pool_id=pool["pool_id"], send_invitation=False)
    identity.create_user(tenant_id="t-acme", email="dup@acme.test", role=UserRole.TENANT_USER)

    with pytest.raises(UserAlreadyExists):
        identity.create_user(tenant_id="t-other", email="dup@acme.test", role=UserRole.TENANT_USER)


def test_the_user_is_in_its_role_group(cognito: Any, pool: dict[str, str]) -> None:
    identity = CognitoIdentityProvider(cognito, user_pool_id=pool["pool_id"], send_invitation=False)

    invitation = identity.create_user(
        tenant_id="t-acme", email="shopper@acme.test", role=UserRole.TENANT_USER
    )

    groups = cognito.admin_list_groups_for_user(
        UserPoolId=pool["pool_id"], Username=invitation.username
    )["Groups"]
    assert [g["GroupName"] for g in groups] == ["TenantUser"]


def test_a_user_who_never_logged_in_can_be_invited_again_with_a_new_password(
    cognito: Any, pool: dict[str, str]
) -> None:
    identity = CognitoIdentityProvider(cognito, user_pool_id=pool["pool_id"], send_invitation=False)
    first = identity.create_user(
        tenant_id="t-acme", email="again@acme.test", role=UserRole.TENANT_USER
    )

    again = identity.reinvite(
        tenant_id="t-acme", email="again@acme.test", role=UserRole.TENANT_USER
    )

    assert again is not None
    assert again.username == first.username
    assert again.temporary_password != first.temporary_password
    answer = _login(cognito, pool["client_id"], again.username, again.temporary_password)
    assert answer["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    groups = cognito.admin_list_groups_for_user(UserPoolId=pool["pool_id"], Username=again.username)
    assert [g["GroupName"] for g in groups["Groups"]] == ["TenantUser"]


def test_no_reinvitation_for_another_tenant_an_active_user_or_a_stranger(
    cognito: Any, pool: dict[str, str]
) -> None:
    identity = CognitoIdentityProvider(cognito, user_pool_id=pool["pool_id"], send_invitation=False)
    theirs = identity.create_user(tenant_id="t-b", email="b@x.test", role=UserRole.TENANT_USER)
    active = identity.create_user(tenant_id="t-a", email="a@x.test", role=UserRole.TENANT_USER)
    cognito.admin_set_user_password(
        UserPoolId=pool["pool_id"],
        Username=active.username,
        Password="Chosen-Passw0rd",
        Permanent=True,
    )

    assert identity.reinvite(tenant_id="t-a", email="b@x.test", role=UserRole.TENANT_USER) is None
    assert identity.reinvite(tenant_id="t-a", email="a@x.test", role=UserRole.TENANT_USER) is None
    assert identity.reinvite(tenant_id="t-a", email="who@x.test", role=UserRole.TENANT_USER) is None
    assert (
        _login(cognito, pool["client_id"], theirs.username, theirs.temporary_password)[
            "ChallengeName"
        ]
        == "NEW_PASSWORD_REQUIRED"
    )


def _active_user(identity: CognitoIdentityProvider, cognito: Any, pool: dict[str, str]) -> str:
    user = identity.create_user(tenant_id="t-a", email="on@x.test", role=UserRole.TENANT_USER)
    cognito.admin_set_user_password(
        UserPoolId=pool["pool_id"],
        Username=user.username,
        Password="Chosen-Passw0rd",
        Permanent=True,
    )
    return user.username


def test_a_disabled_user_cannot_log_in_until_enabled(cognito: Any, pool: dict[str, str]) -> None:
    identity = CognitoIdentityProvider(cognito, user_pool_id=pool["pool_id"], send_invitation=False)
    username = _active_user(identity, cognito, pool)
    session = _login(cognito, pool["client_id"], username, "Chosen-Passw0rd")

    identity.disable("t-a", username)

    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        _login(cognito, pool["client_id"], username, "Chosen-Passw0rd")
    with pytest.raises(cognito.exceptions.NotAuthorizedException):  # refresh token revoked
        cognito.initiate_auth(
            ClientId=pool["client_id"],
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": session["AuthenticationResult"]["RefreshToken"]},
        )
    identity.enable("t-a", username)
    assert "AuthenticationResult" in _login(cognito, pool["client_id"], username, "Chosen-Passw0rd")


def test_a_deleted_user_is_gone_and_deleting_again_is_nothing(
    cognito: Any, pool: dict[str, str]
) -> None:
    identity = CognitoIdentityProvider(cognito, user_pool_id=pool["pool_id"], send_invitation=False)
    username = _active_user(identity, cognito, pool)
    assert identity.subject("t-a", username)

    identity.delete("t-a", username)
    identity.delete("t-a", username)
    identity.disable("t-a", username)
    identity.enable("t-a", username)

    assert identity.subject("t-a", username) is None
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_get_user(UserPoolId=pool["pool_id"], Username=username)


def test_the_subject_is_the_sub_of_the_users_tokens(cognito: Any, pool: dict[str, str]) -> None:
    import jwt

    identity = CognitoIdentityProvider(cognito, user_pool_id=pool["pool_id"], send_invitation=False)
    username = _active_user(identity, cognito, pool)
    token = _login(cognito, pool["client_id"], username, "Chosen-Passw0rd")
    claims = jwt.decode(
        token["AuthenticationResult"]["IdToken"], options={"verify_signature": False}
    )

    assert identity.subject("t-a", username) == claims["sub"]


def test_no_admin_action_reaches_another_tenants_user(cognito: Any, pool: dict[str, str]) -> None:
    """One pool holds every tenant: IAM cannot keep them apart there, the adapter does. A user
    of tenant B asked for in tenant A's name is not found, and nothing is done to it."""
    identity = CognitoIdentityProvider(cognito, user_pool_id=pool["pool_id"], send_invitation=False)
    username = _active_user(identity, cognito, pool)  # tenant t-a's
    calls: list[str] = []
    cognito.meta.events.register(
        "before-call.cognito-idp.*", lambda model, **_: calls.append(model.name)
    )

    for act in (identity.disable, identity.enable, identity.delete, identity.subject):
        with pytest.raises(UserNotFound):
            act("t-b", username)

    # Each asked who the user is, and no Admin* call that changes anything was made.
    assert calls == ["AdminGetUser"] * 4
    user = cognito.admin_get_user(UserPoolId=pool["pool_id"], Username=username)
    assert user["Enabled"] is True
    assert "AuthenticationResult" in _login(cognito, pool["client_id"], username, "Chosen-Passw0rd")
