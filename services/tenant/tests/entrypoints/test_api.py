"""The tenant API through its Lambda handler, with the caller in the authorizer context."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from typing import Any

import pytest
from tenant_testkit import SYSTEM_ADMIN, Wiring, admin_of, call, user_of

from tenant_service.adapters.memory_unit_of_work import MemoryUnitOfWork
from tenant_service.domain.tenant import TenantStatus
from tenant_service.domain.users import UserRole

NEW_TENANT = {
    "name": "Acme",
    "tier": "premium",
    "region_group": "eu",
    "admin_email": "boss@acme.test",
    "config": {"theme": "dark"},
}


def _onboard(api: Any, wiring: Wiring, body: dict[str, Any] | None = None) -> str:
    status, answer = call(api, "POST", "/tenants", caller=SYSTEM_ADMIN, body=body or NEW_TENANT)
    assert status == 202
    return str(answer["id"])


def _activate(wiring: Wiring, tenant_id: str) -> None:
    from dataclasses import replace

    tenant = wiring.repository.tenants[tenant_id]
    wiring.repository.tenants[tenant_id] = replace(tenant, status=TenantStatus.ACTIVE)


def _details(wiring: Wiring) -> list[str]:
    return [e.detail_type for e in wiring.repository.outbox]


def test_a_system_admin_onboards_a_tenant(api: Any, wiring: Wiring) -> None:
    status, answer = call(api, "POST", "/tenants", caller=SYSTEM_ADMIN, body=NEW_TENANT)

    assert (status, answer) == (202, {"id": "t1", "status": "PROVISIONING"})
    assert _details(wiring) == ["TenantRegistered"]
    [event] = wiring.repository.outbox
    assert event.detail["data"]["admin_email"] == "boss@acme.test"
    assert event.detail["metadata"]["tenant_id"] == "t1"
    assert event.detail["metadata"]["producer"] == "saas.tenant"
    assert (event.detail["metadata"]["tier"], event.detail["metadata"]["region_group"]) == (
        "premium",
        "eu",
    )


# "expired": an attempt committed the tenant and died before answering; its idempotency record
# was never completed and has expired, so only the tenant's id (derived from the key) is left.
RECORD = pytest.mark.parametrize("record", ["kept", "expired"])


@RECORD
def test_a_repeated_request_with_the_same_key_gets_the_first_answer(
    api: Any, wiring: Wiring, record: str
) -> None:
    headers = {"Idempotency-Key": "onboard-acme-1"}
    first = call(api, "POST", "/tenants", caller=SYSTEM_ADMIN, body=NEW_TENANT, headers=headers)
    if record == "expired":
        wiring.idempotency.records.clear()

    again = call(api, "POST", "/tenants", caller=SYSTEM_ADMIN, body=NEW_TENANT, headers=headers)

    assert again == first
    assert list(wiring.repository.tenants) == ["t1"]
    assert _details(wiring) == ["TenantRegistered"]


@RECORD
def test_a_key_reused_with_another_body_is_refused(api: Any, wiring: Wiring, record: str) -> None:
    headers = {"Idempotency-Key": "k"}
    call(api, "POST", "/tenants", caller=SYSTEM_ADMIN, body=NEW_TENANT, headers=headers)
    if record == "expired":
        wiring.idempotency.records.clear()

    status, answer = call(
        api,
        "POST",
        "/tenants",
        caller=SYSTEM_ADMIN,
        body={**NEW_TENANT, "name": "B"},
        headers=headers,
    )

    assert status == 422
    assert "Idempotency-Key" in answer["message"]
    if record == "expired":
        assert answer["message"] == (
            "this Idempotency-Key already registered tenant 't1' with another body"
        )
    assert list(wiring.repository.tenants) == ["t1"]


def test_without_a_key_each_request_is_a_new_tenant(api: Any, wiring: Wiring) -> None:
    call(api, "POST", "/tenants", caller=SYSTEM_ADMIN, body=NEW_TENANT)
    call(api, "POST", "/tenants", caller=SYSTEM_ADMIN, body=NEW_TENANT)

    assert sorted(wiring.repository.tenants) == ["t1", "t2"]


def test_tenants_are_listed_in_pages(api: Any, wiring: Wiring) -> None:
    for _ in range(3):
        _onboard(api, wiring)

    status, first = call(api, "GET", "/tenants", caller=SYSTEM_ADMIN, query={"limit": "2"})
    _, rest = call(
        api, "GET", "/tenants", caller=SYSTEM_ADMIN, query={"next_token": first["next_token"]}
    )

    assert status == 200
    assert [t["id"] for t in first["items"] + rest["items"]] == ["t1", "t2", "t3"]
    assert rest["next_token"] is None


def test_a_tenant_admin_reads_its_own_tenant(api: Any, wiring: Wiring) -> None:
    tenant_id = _onboard(api, wiring)

    status, answer = call(api, "GET", f"/tenants/{tenant_id}", caller=admin_of(tenant_id))

    assert status == 200
    assert answer["name"] == "Acme"
    assert answer["config"] == {"theme": "dark"}
    assert answer["status"] == "PROVISIONING"


def test_the_lifecycle_through_the_api(api: Any, wiring: Wiring) -> None:
    tenant_id = _onboard(api, wiring)
    _activate(wiring, tenant_id)

    assert (
        call(api, "POST", f"/tenants/{tenant_id}/suspend", caller=SYSTEM_ADMIN)[1]["status"]
        == "SUSPENDED"
    )
    assert (
        call(api, "POST", f"/tenants/{tenant_id}/activate", caller=SYSTEM_ADMIN)[1]["status"]
        == "ACTIVE"
    )
    status, changed = call(
        api,
        "PATCH",
        f"/tenants/{tenant_id}",
        caller=SYSTEM_ADMIN,
        body={"tier": "basic", "config": {"theme": "light"}},
    )
    assert (status, changed["tier"], changed["config"]) == (200, "basic", {"theme": "light"})
    status, gone = call(api, "DELETE", f"/tenants/{tenant_id}", caller=SYSTEM_ADMIN)
    assert (status, gone["status"]) == (202, "OFFBOARDING")
    assert _details(wiring) == [
        "TenantRegistered",
        "TenantSuspended",
        "TenantActivated",
        "TenantUpdated",
        "TenantOffboardingRequested",
    ]


@pytest.mark.parametrize("status", [TenantStatus.OFFBOARDING, TenantStatus.OFFBOARDED])
def test_delete_is_idempotent(api: Any, wiring: Wiring, status: TenantStatus) -> None:
    # Given a tenant whose offboarding was requested (and perhaps is done)
    tenant_id = _onboard(api, wiring)
    assert call(api, "DELETE", f"/tenants/{tenant_id}", caller=SYSTEM_ADMIN)[0] == 202
    tenant = wiring.repository.tenants[tenant_id]
    wiring.repository.tenants[tenant_id] = replace(tenant, status=status)
    # When DELETE is repeated (a client retrying after a lost answer)
    again, answer = call(api, "DELETE", f"/tenants/{tenant_id}", caller=SYSTEM_ADMIN)
    # Then it is accepted with the tenant as it is, and nothing more is published or changed
    assert (again, answer["status"]) == (202, status.value)
    assert _details(wiring).count("TenantOffboardingRequested") == 1
    assert wiring.repository.tenants[tenant_id].version == tenant.version


def test_delete_that_loses_a_race_with_another_delete_is_accepted(
    api: Any, wiring: Wiring, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a tenant that another request offboards between this request's read and its write
    tenant_id = _onboard(api, wiring)
    repository = wiring.repository
    commit = MemoryUnitOfWork.commit

    def offboarded_meanwhile(uow: MemoryUnitOfWork) -> None:
        monkeypatch.setattr(MemoryUnitOfWork, "commit", commit)
        stored = repository.tenants[tenant_id]
        repository.tenants[tenant_id] = replace(
            stored, status=TenantStatus.OFFBOARDING, version=stored.version + 1
        )
        commit(uow)

    monkeypatch.setattr(MemoryUnitOfWork, "commit", offboarded_meanwhile)
    # When this DELETE commits second
    status, answer = call(api, "DELETE", f"/tenants/{tenant_id}", caller=SYSTEM_ADMIN)
    # Then it is accepted with the tenant as the first one left it, and published nothing
    assert (status, answer["status"]) == (202, "OFFBOARDING")
    assert "TenantOffboardingRequested" not in _details(wiring)


def test_a_transition_the_lifecycle_forbids_is_a_conflict(api: Any, wiring: Wiring) -> None:
    tenant_id = _onboard(api, wiring)

    status, answer = call(api, "POST", f"/tenants/{tenant_id}/activate", caller=SYSTEM_ADMIN)

    assert status == 409
    assert "PROVISIONING" in answer["message"]
    assert wiring.repository.tenants[tenant_id].status is TenantStatus.PROVISIONING


def test_a_failed_provisioning_is_retried_by_a_system_admin(api: Any, wiring: Wiring) -> None:
    # Given a tenant whose provisioning failed
    tenant_id = _onboard(api, wiring)
    tenant = wiring.repository.tenants[tenant_id]
    wiring.repository.tenants[tenant_id] = replace(
        tenant, status=TenantStatus.PROVISIONING_FAILED, status_reason="stack limit reached"
    )
    # When a SystemAdmin retries it
    status, answer = call(
        api, "POST", f"/tenants/{tenant_id}/retry-provisioning", caller=SYSTEM_ADMIN
    )
    # Then it is PROVISIONING again, and says so on the bus with the reason it had
    assert (status, answer["status"]) == (202, "PROVISIONING")
    assert wiring.repository.tenants[tenant_id].status is TenantStatus.PROVISIONING
    assert _details(wiring) == ["TenantRegistered", "TenantProvisioningRetried"]
    retried = wiring.repository.outbox[-1].detail["data"]
    assert retried == {"tenant_id": tenant_id, "previous_reason": "stack limit reached"}


@pytest.mark.parametrize(
    "current",
    [s for s in TenantStatus if s is not TenantStatus.PROVISIONING_FAILED],
)
def test_a_retry_from_any_other_status_is_a_conflict_that_says_why(
    api: Any, wiring: Wiring, current: TenantStatus
) -> None:
    tenant_id = _onboard(api, wiring)
    tenant = wiring.repository.tenants[tenant_id]
    wiring.repository.tenants[tenant_id] = replace(tenant, status=current)

    status, answer = call(
        api, "POST", f"/tenants/{tenant_id}/retry-provisioning", caller=SYSTEM_ADMIN
    )

    assert status == 409
    assert (
        answer["message"] == f"tenant '{tenant_id}' is {current.value}: cannot retry provisioning"
    )
    assert wiring.repository.tenants[tenant_id].status is current
    assert _details(wiring) == ["TenantRegistered"]


def test_only_a_system_admin_retries_provisioning(api: Any, wiring: Wiring) -> None:
    tenant_id = _onboard(api, wiring)
    tenant = wiring.repository.tenants[tenant_id]
    wiring.repository.tenants[tenant_id] = replace(tenant, status=TenantStatus.PROVISIONING_FAILED)

    status, _ = call(
        api, "POST", f"/tenants/{tenant_id}/retry-provisioning", caller=admin_of(tenant_id)
    )

    assert status == 403
    assert wiring.repository.tenants[tenant_id].status is TenantStatus.PROVISIONING_FAILED


def test_a_tenant_admin_creates_and_lists_users_of_its_tenant(api: Any, wiring: Wiring) -> None:
    tenant_id = _onboard(api, wiring)
    _activate(wiring, tenant_id)

    status, user = call(
        api,
        "POST",
        "/users",
        caller=admin_of(tenant_id),
        body={"email": "shopper@acme.test", "role": "TenantUser"},
    )

    assert status == 201
    assert user == {
        "username": "user-1",
        "email": "shopper@acme.test",
        "role": "TenantUser",
        "enabled": True,
    }
    assert wiring.identity.users["shopper@acme.test"] == ("user-1", tenant_id, "TenantUser")
    assert [i.to for i in wiring.invitations.sent] == ["shopper@acme.test"]
    assert _details(wiring)[-1] == "TenantUserCreated"
    status, page = call(api, "GET", "/users", caller=admin_of(tenant_id))
    assert (status, page["items"]) == (200, [user])


def test_an_email_already_in_use_is_a_conflict(api: Any, wiring: Wiring) -> None:
    tenant_id = _onboard(api, wiring)
    _activate(wiring, tenant_id)
    body = {"email": "shopper@acme.test", "role": "TenantUser"}
    call(api, "POST", "/users", caller=admin_of(tenant_id), body=body)

    status, _ = call(api, "POST", "/users", caller=admin_of(tenant_id), body=body)

    assert status == 409


class TestIsolation:
    """A TenantAdmin of A cannot read B, list tenants, or create users in B."""

    @pytest.fixture
    def two(self, api: Any, wiring: Wiring) -> tuple[str, str]:
        a, b = _onboard(api, wiring), _onboard(api, wiring, {**NEW_TENANT, "name": "Globex"})
        _activate(wiring, a)
        _activate(wiring, b)
        return a, b

    def test_cannot_read_another_tenant(self, api: Any, two: tuple[str, str]) -> None:
        a, b = two

        status, answer = call(api, "GET", f"/tenants/{b}", caller=admin_of(a))

        assert status == 404
        assert "Globex" not in json.dumps(answer)

    def test_cannot_list_tenants(self, api: Any, two: tuple[str, str]) -> None:
        status, _ = call(api, "GET", "/tenants", caller=admin_of(two[0]))

        assert status == 403

    def test_users_are_created_in_the_callers_tenant_only(
        self, api: Any, wiring: Wiring, two: tuple[str, str]
    ) -> None:
        a, b = two

        # A body naming another tenant is refused, not obeyed
        status, _ = call(
            api,
            "POST",
            "/users",
            caller=admin_of(a),
            body={"email": "spy@x.test", "role": "TenantAdmin", "tenant_id": b},
        )
        assert status == 422
        assert wiring.identity.users == {}

        # And a user created by A's admin belongs to A
        call(
            api,
            "POST",
            "/users",
            caller=admin_of(a),
            body={"email": "u@x.test", "role": "TenantUser"},
        )
        assert wiring.identity.users["u@x.test"][1] == a
        assert call(api, "GET", "/users", caller=admin_of(b))[1]["items"] == []

    def test_a_tenant_user_cannot_manage_users_or_read_its_tenant(
        self, api: Any, two: tuple[str, str]
    ) -> None:
        a, _ = two

        assert call(api, "GET", "/users", caller=user_of(a))[0] == 403
        assert call(api, "GET", f"/tenants/{a}", caller=user_of(a))[0] == 404

    def test_a_tenant_admin_cannot_change_its_tenant(self, api: Any, two: tuple[str, str]) -> None:
        a, _ = two

        for method, path in [("POST", f"/tenants/{a}/suspend"), ("DELETE", f"/tenants/{a}")]:
            assert call(api, method, path, caller=admin_of(a))[0] == 403


# Bad input to every route: a 4xx naming the problem, and nothing written.
BAD_INPUT = {
    "POST /tenants no body": ("POST", "/tenants", None, None, "body"),
    "POST /tenants not JSON": ("POST", "/tenants", "{nope", None, "json"),
    "POST /tenants missing name": (
        "POST",
        "/tenants",
        {k: v for k, v in NEW_TENANT.items() if k != "name"},
        None,
        "name",
    ),
    "POST /tenants unknown tier": (
        "POST",
        "/tenants",
        {**NEW_TENANT, "tier": "gold"},
        None,
        "tier",
    ),
    "POST /tenants unknown region": (
        "POST",
        "/tenants",
        {**NEW_TENANT, "region_group": "mars"},
        None,
        "region_group",
    ),
    "POST /tenants bad email": (
        "POST",
        "/tenants",
        {**NEW_TENANT, "admin_email": "nobody"},
        None,
        "admin_email",
    ),
    "POST /tenants config not strings": (
        "POST",
        "/tenants",
        {**NEW_TENANT, "config": {"a": 1}},
        None,
        "config",
    ),
    "POST /tenants bad config key": (
        "POST",
        "/tenants",
        {**NEW_TENANT, "config": {"bad key!": "x"}},
        None,
        "config",
    ),
    "POST /tenants extra field": ("POST", "/tenants", {**NEW_TENANT, "id": "mine"}, None, "id"),
    "GET /tenants limit 0": ("GET", "/tenants", None, {"limit": "0"}, "limit"),
    "GET /tenants limit 101": ("GET", "/tenants", None, {"limit": "101"}, "limit"),
    "GET /tenants limit text": ("GET", "/tenants", None, {"limit": "ten"}, "limit"),
    "GET /tenants bad token": ("GET", "/tenants", None, {"next_token": "garbage!"}, "next_token"),
    "GET /tenants/{id} bad id": ("GET", "/tenants/a%20b", None, None, "tenant_id"),
    "GET /tenants/{id} unknown": ("GET", "/tenants/nobody", None, None, "nobody"),
    "PATCH empty": ("PATCH", "/tenants/{id}", {}, None, "nothing to change"),
    "PATCH unknown tier": ("PATCH", "/tenants/{id}", {"tier": "gold"}, None, "tier"),
    "PATCH status": ("PATCH", "/tenants/{id}", {"status": "ACTIVE"}, None, "status"),
    "PATCH unknown tenant": ("PATCH", "/tenants/nobody", {"tier": "basic"}, None, "nobody"),
    "suspend unknown": ("POST", "/tenants/nobody/suspend", None, None, "nobody"),
    "suspend while provisioning": ("POST", "/tenants/{id}/suspend", None, None, "PROVISIONING"),
    "activate unknown": ("POST", "/tenants/nobody/activate", None, None, "nobody"),
    "DELETE unknown": ("DELETE", "/tenants/nobody", None, None, "nobody"),
    "POST /users bad role": (
        "POST",
        "/users",
        {"email": "a@b.test", "role": "SystemAdmin"},
        None,
        "role",
    ),
    "POST /users bad email": (
        "POST",
        "/users",
        {"email": "x", "role": "TenantUser"},
        None,
        "email",
    ),
    "POST /users no body": ("POST", "/users", None, None, "body"),
    "GET /users limit": ("GET", "/users", None, {"limit": "-1"}, "limit"),
    "GET /users bad token": ("GET", "/users", None, {"next_token": "eyJ4IjogMX0"}, "next_token"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_a_4xx_naming_the_problem_and_changes_nothing(
    api: Any, wiring: Wiring, case: str
) -> None:
    # Given one tenant (still provisioning) and an admin user in another, active one
    tenant_id = _onboard(api, wiring)
    other = _onboard(api, wiring)
    _activate(wiring, other)
    before = (
        copy.deepcopy(wiring.repository.tenants),
        list(wiring.repository.outbox),
        dict(wiring.identity.users),
    )
    method, path, body, query, named = BAD_INPUT[case]
    caller = admin_of(other) if path.startswith("/users") else SYSTEM_ADMIN

    # When the bad request comes
    status, answer = call(
        api, method, path.replace("{id}", tenant_id), caller=caller, body=body, query=query
    )

    # Then it is refused with a 4xx that names the problem
    assert 400 <= status < 500
    assert named.lower() in json.dumps(answer).lower()
    # And nothing was written
    after = (wiring.repository.tenants, wiring.repository.outbox, wiring.identity.users)
    assert after == before


def test_a_user_whose_earlier_creation_did_not_finish_is_invited_again(
    api: Any, wiring: Wiring
) -> None:
    # Given an earlier POST /users that created the identity but failed before recording it
    tenant_id = _onboard(api, wiring)
    _activate(wiring, tenant_id)
    wiring.identity.create_user(
        tenant_id=tenant_id, email="half@acme.test", role=UserRole.TENANT_USER
    )

    # When the admin retries
    status, user = call(
        api,
        "POST",
        "/users",
        caller=admin_of(tenant_id),
        body={"email": "half@acme.test", "role": "TenantUser"},
    )

    # Then the same user is invited again and recorded
    assert (status, user["username"]) == (201, "user-1")
    assert [i.temporary_password for i in wiring.invitations.sent] == ["Again-Passw0rd!"]
    assert _details(wiring)[-1] == "TenantUserCreated"


def test_another_tenants_user_or_one_who_logged_in_is_not_invited_again(
    api: Any, wiring: Wiring
) -> None:
    a, b = _onboard(api, wiring), _onboard(api, wiring)
    _activate(wiring, a)
    _activate(wiring, b)
    wiring.identity.create_user(tenant_id=b, email="theirs@x.test", role=UserRole.TENANT_USER)
    wiring.identity.create_user(tenant_id=a, email="active@x.test", role=UserRole.TENANT_USER)
    wiring.identity.logged_in.add("active@x.test")

    for email in ("theirs@x.test", "active@x.test"):
        status, _ = call(
            api, "POST", "/users", caller=admin_of(a), body={"email": email, "role": "TenantUser"}
        )
        assert status == 409
    assert wiring.invitations.sent == []


def _raw(api: Any, body: str, *, base64_encoded: bool = False) -> tuple[int, Any]:
    from tenant_testkit import LambdaContext, rest_event

    event = rest_event("POST", "/tenants", caller=SYSTEM_ADMIN)
    event.update(body=body, isBase64Encoded=base64_encoded)
    answer = api.handler(event, LambdaContext())
    return answer["statusCode"], json.loads(answer["body"])


def test_malformed_or_non_utf8_bodies_are_400s_that_say_so(api: Any, wiring: Wiring) -> None:
    import base64

    status, answer = _raw(api, '{"name": ')
    assert (status, answer["statusCode"]) == (400, 400)
    assert answer["message"].startswith("invalid request: body")
    assert "JSON decode error" in answer["message"]

    encoded = base64.b64encode(b"\xfd\xff{").decode()
    assert _raw(api, encoded, base64_encoded=True) == (
        400,
        {"statusCode": 400, "message": "the body is not UTF-8 text", "detail": None},
    )
    assert wiring.repository.tenants == {}


def test_a_422_says_in_words_what_is_wrong(api: Any) -> None:
    status, answer = call(
        api, "POST", "/tenants", caller=SYSTEM_ADMIN, body={**NEW_TENANT, "tier": "gold"}
    )

    assert status == 422
    assert answer["message"].startswith("invalid request: body.tier: ")
    assert answer["detail"][0]["loc"] == ["body", "tier"]


def test_every_route_documents_each_status_it_answers(api: Any) -> None:
    document = json.loads(api.app.get_openapi_json_schema(title="tenant"))
    documented = {
        (method.upper(), path): set(operation["responses"])
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }

    assert documented == {
        ("POST", "/tenants"): {"202", "400", "401", "403", "409", "415", "422"},
        ("GET", "/tenants"): {"200", "400", "401", "403", "422"},
        ("GET", "/tenants/{tenant_id}"): {"200", "401", "403", "404", "422"},
        ("PATCH", "/tenants/{tenant_id}"): {"200", "400", "401", "403", "404", "409", "415", "422"},
        ("POST", "/tenants/{tenant_id}/suspend"): {"200", "401", "403", "404", "409", "422"},
        ("POST", "/tenants/{tenant_id}/activate"): {"200", "401", "403", "404", "409", "422"},
        ("POST", "/tenants/{tenant_id}/retry-provisioning"): {
            "202",
            "401",
            "403",
            "404",
            "409",
            "422",
        },
        ("DELETE", "/tenants/{tenant_id}"): {"202", "401", "403", "404", "409", "422"},
        ("POST", "/users"): {"201", "400", "401", "403", "404", "409", "415", "422"},
        ("GET", "/users"): {"200", "400", "401", "403", "404", "422"},
        ("POST", "/users/{username}/disable"): {"200", "401", "403", "404", "409", "422"},
        ("POST", "/users/{username}/enable"): {"200", "401", "403", "404", "422"},
        ("POST", "/users/{username}/resend-invitation"): {
            "200",
            "401",
            "403",
            "404",
            "409",
            "422",
        },
        ("DELETE", "/users/{username}"): {"204", "401", "403", "404", "409", "422"},
    }


def test_a_body_sent_as_anything_but_json_is_a_415(api: Any, wiring: Wiring) -> None:
    status, answer = call(
        api,
        "PATCH",
        "/tenants/t1",
        caller=SYSTEM_ADMIN,
        body={"tier": "basic"},
        headers={"Content-Type": "multipart/form-data"},
    )

    assert (status, answer["statusCode"]) == (415, 415)
    assert "multipart/form-data" in answer["message"]
