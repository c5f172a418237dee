"""A TenantAdmin disables, enables, removes and re-invites the users of its own tenant."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import quote

import pytest
from tenant_testkit import SYSTEM_ADMIN, Wiring, admin_of, call, user_of

from tenant_service.domain.tenant import TenantStatus

NEW_TENANT = {"name": "Acme", "tier": "basic", "region_group": "us", "admin_email": "a@acme.test"}


def _tenant(api: Any, wiring: Wiring) -> str:
    status, answer = call(api, "POST", "/tenants", caller=SYSTEM_ADMIN, body=NEW_TENANT)
    assert status == 202
    tenant_id = str(answer["id"])
    tenant = wiring.repository.tenants[tenant_id]
    wiring.repository.tenants[tenant_id] = replace(tenant, status=TenantStatus.ACTIVE)
    return tenant_id


def _invite(api: Any, tenant_id: str, email: str, role: str = "TenantUser") -> str:
    status, user = call(
        api, "POST", "/users", caller=admin_of(tenant_id), body={"email": email, "role": role}
    )
    assert status == 201
    return str(user["username"])


def _details(wiring: Wiring) -> list[str]:
    return [m.detail_type for m in wiring.repository.outbox]


def _path(username: str, action: str = "") -> str:
    return f"/users/{quote(username, safe='')}" + (f"/{action}" if action else "")


def test_a_disabled_user_is_signed_out_and_shown_disabled(api: Any, wiring: Wiring) -> None:
    tenant_id = _tenant(api, wiring)
    username = _invite(api, tenant_id, "shopper@acme.test")

    status, user = call(api, "POST", _path(username, "disable"), caller=admin_of(tenant_id))

    assert (status, user["enabled"]) == (200, False)
    assert username in wiring.identity.disabled
    assert wiring.identity.signed_out == [username]
    assert _details(wiring)[-1] == "TenantUserDisabled"
    assert wiring.repository.outbox[-1].detail["data"]["username"] == username
    listed = call(api, "GET", "/users", caller=admin_of(tenant_id))[1]["items"]
    assert [(u["username"], u["enabled"]) for u in listed] == [(username, False)]


def test_disabling_twice_answers_the_user_as_it_is(api: Any, wiring: Wiring) -> None:
    tenant_id = _tenant(api, wiring)
    username = _invite(api, tenant_id, "shopper@acme.test")
    call(api, "POST", _path(username, "disable"), caller=admin_of(tenant_id))

    status, user = call(api, "POST", _path(username, "disable"), caller=admin_of(tenant_id))

    assert (status, user["enabled"]) == (200, False)
    assert _details(wiring).count("TenantUserDisabled") == 1


def test_an_enabled_user_may_log_in_again(api: Any, wiring: Wiring) -> None:
    tenant_id = _tenant(api, wiring)
    username = _invite(api, tenant_id, "shopper@acme.test")
    call(api, "POST", _path(username, "disable"), caller=admin_of(tenant_id))

    status, user = call(api, "POST", _path(username, "enable"), caller=admin_of(tenant_id))

    assert (status, user["enabled"]) == (200, True)
    assert username not in wiring.identity.disabled
    assert _details(wiring)[-1] == "TenantUserEnabled"


def test_a_removed_user_is_gone_from_the_identity_provider_and_the_list(
    api: Any, wiring: Wiring
) -> None:
    tenant_id = _tenant(api, wiring)
    username = _invite(api, tenant_id, "shopper@acme.test")

    status, body = call(api, "DELETE", _path(username), caller=admin_of(tenant_id))

    assert (status, body) == (204, None)
    assert "shopper@acme.test" not in wiring.identity.users
    assert call(api, "GET", "/users", caller=admin_of(tenant_id))[1]["items"] == []
    assert _details(wiring)[-1] == "TenantUserRemoved"
    again, answer = call(api, "DELETE", _path(username), caller=admin_of(tenant_id))
    assert again == 404
    assert username in answer["message"]


def test_a_user_is_found_by_its_email_encoded_in_the_path(api: Any, wiring: Wiring) -> None:
    tenant_id = _tenant(api, wiring)
    username = _invite(api, tenant_id, "shop+per@acme.test")
    stored = wiring.repository.users.pop((tenant_id, username))
    email_named = replace(stored, username="shop+per@acme.test")
    wiring.repository.users[(tenant_id, email_named.username)] = email_named

    status, user = call(
        api, "POST", "/users/shop%2Bper%40acme.test/disable", caller=admin_of(tenant_id)
    )

    assert (status, user["username"]) == (200, "shop+per@acme.test")


@pytest.mark.parametrize(
    ("method", "action"),
    [("POST", "disable"), ("POST", "enable"), ("POST", "resend-invitation"), ("DELETE", "")],
)
def test_another_tenants_user_is_not_found_and_not_touched(
    api: Any, wiring: Wiring, method: str, action: str
) -> None:
    a, b = _tenant(api, wiring), _tenant(api, wiring)
    username = _invite(api, b, "someone@b.test")
    outbox_before = list(wiring.repository.outbox)

    status, answer = call(api, method, _path(username, action), caller=admin_of(a))

    assert status == 404
    assert answer["message"] == f"user {username!r} not found"
    assert wiring.repository.outbox == outbox_before
    assert "someone@b.test" in wiring.identity.users
    assert wiring.identity.disabled == set()
    assert len(wiring.invitations.sent) == 1


@pytest.mark.parametrize(("method", "action"), [("POST", "disable"), ("DELETE", "")])
def test_an_admin_cannot_disable_or_remove_itself(
    api: Any, wiring: Wiring, method: str, action: str
) -> None:
    tenant_id = _tenant(api, wiring)
    username = _invite(api, tenant_id, "boss@acme.test", role="TenantAdmin")
    itself = {**admin_of(tenant_id), "user_id": f"sub-{username}"}  # the token's sub

    status, answer = call(api, method, _path(username, action), caller=itself)

    assert status == 409
    assert "cannot" in answer["message"]
    assert "itself" in answer["message"]
    assert "boss@acme.test" in wiring.identity.users
    assert wiring.identity.disabled == set()


def test_a_tenant_user_may_not_manage_users(api: Any, wiring: Wiring) -> None:
    tenant_id = _tenant(api, wiring)
    username = _invite(api, tenant_id, "shopper@acme.test")

    status, answer = call(api, "POST", _path(username, "disable"), caller=user_of(tenant_id))

    assert status == 403
    assert "may not manage users" in answer["message"]


def test_an_invitation_is_sent_again_with_a_new_password(api: Any, wiring: Wiring) -> None:
    tenant_id = _tenant(api, wiring)
    username = _invite(api, tenant_id, "shopper@acme.test")

    status, user = call(
        api, "POST", _path(username, "resend-invitation"), caller=admin_of(tenant_id)
    )

    assert (status, user["username"]) == (200, username)
    first, second = wiring.invitations.sent
    assert (second.to, second.username) == ("shopper@acme.test", username)
    assert second.temporary_password != first.temporary_password


def test_no_invitation_for_a_user_who_signed_in_or_is_disabled(api: Any, wiring: Wiring) -> None:
    tenant_id = _tenant(api, wiring)
    active = _invite(api, tenant_id, "active@acme.test")
    wiring.identity.logged_in.add("active@acme.test")
    disabled = _invite(api, tenant_id, "off@acme.test")
    call(api, "POST", _path(disabled, "disable"), caller=admin_of(tenant_id))

    signed_in = call(api, "POST", _path(active, "resend-invitation"), caller=admin_of(tenant_id))
    off = call(api, "POST", _path(disabled, "resend-invitation"), caller=admin_of(tenant_id))

    assert signed_in[0] == 409
    assert "already signed in" in signed_in[1]["message"]
    assert off[0] == 409
    assert "disabled" in off[1]["message"]
    assert len(wiring.invitations.sent) == 2


REFUSAL = (
    "User: arn:aws:sts::123456789012:assumed-role/saas-tenant-tenant-access-us-east-1/tenant-x "
    "is not authorized to perform: dynamodb:GetItem"
)


def _refused(*_args: Any, **_kwargs: Any) -> Any:
    from tenant_service.domain.errors import OutsideTheTenant

    raise OutsideTheTenant(REFUSAL)


def test_a_key_refused_to_the_scoped_credentials_is_a_404_that_shows_nothing(
    api: Any, wiring: Wiring, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant_id = _tenant(api, wiring)
    username = _invite(api, tenant_id, "shopper@acme.test")
    for method in ("get", "user", "list_users", "user_by_email"):
        monkeypatch.setattr(wiring.repository, method, _refused)

    new_user = {"email": "n@acme.test", "role": "TenantUser"}
    user = {"username": quote(username, safe="")}
    answers = {
        (method, path): call(
            api, method, path, caller=admin_of(tenant_id), body=body, path_parameters=parameters
        )
        for method, path, body, parameters in [
            ("GET", f"/tenants/{tenant_id}", None, {"tenant_id": tenant_id}),
            ("GET", "/users", None, None),
            ("POST", "/users", new_user, None),
            ("POST", _path(username, "disable"), None, user),
            ("DELETE", _path(username), None, user),
        ]
    }

    assert {key: status for key, (status, _) in answers.items()} == dict.fromkeys(answers, 404)
    messages = [body["message"] for _, body in answers.values()]
    assert messages == [
        f"tenant {tenant_id!r} not found",
        "no such item in the caller's tenant",
        "no such item in the caller's tenant",
        f"user {username!r} not found",
        f"user {username!r} not found",
    ]
    assert all("not authorized" not in m for m in messages)  # AWS's refusal is only logged
    assert username not in wiring.identity.disabled  # nothing was done
    assert "shopper@acme.test" in wiring.identity.users
    assert "n@acme.test" not in wiring.identity.users
