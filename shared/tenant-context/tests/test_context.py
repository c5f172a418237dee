import pytest

from tenant_context import (
    InvalidTenantContext,
    MissingTenantId,
    Principal,
    RegionGroup,
    Role,
    TenantContext,
    Tier,
    new_metadata,
)

AUTHORIZER = {
    "tenant_id": "t-1",
    "role": "TenantAdmin",
    "user_id": "u-1",
    "tier": "premium",
    "region_group": "eu",
    "principalId": "u-1",
    "integrationLatency": 12,
}


def test_reads_every_field_from_the_authorizer_context():
    ctx = TenantContext.from_authorizer(AUTHORIZER)

    assert ctx == TenantContext(
        tenant_id="t-1",
        role=Role.TENANT_ADMIN,
        user_id="u-1",
        tier=Tier.PREMIUM,
        region_group=RegionGroup.EU,
    )


def test_reads_from_a_rest_proxy_event():
    event = {"path": "/products", "requestContext": {"authorizer": AUTHORIZER}}

    assert TenantContext.from_event(event).tenant_id == "t-1"


def test_round_trips_through_the_authorizer_context():
    ctx = TenantContext.from_authorizer(AUTHORIZER)

    assert TenantContext.from_authorizer(ctx.to_authorizer()) == ctx


@pytest.mark.parametrize("tenant_id", [None, "", "   ", 42])
def test_a_missing_or_blank_tenant_id_is_an_error_never_a_default(tenant_id):
    authorizer = {**AUTHORIZER, "tenant_id": tenant_id}
    if tenant_id is None:
        del authorizer["tenant_id"]

    with pytest.raises(MissingTenantId, match="tenant_id is missing or blank"):
        TenantContext.from_authorizer(authorizer)


def test_constructing_a_context_without_a_tenant_fails():
    with pytest.raises(MissingTenantId):
        TenantContext("", Role.TENANT_USER, "u", Tier.BASIC, RegionGroup.US)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("role", "Root", "role 'Root' is not one of"),
        ("tier", "gold", "tier 'gold' is not one of"),
        ("region_group", "mars", "region_group 'mars' is not one of"),
        ("user_id", "", "user_id is missing or blank"),
    ],
)
def test_invalid_fields_are_named(field, value, message):
    with pytest.raises(InvalidTenantContext, match=message):
        TenantContext.from_authorizer({**AUTHORIZER, field: value})


@pytest.mark.parametrize("authorizer", [None, {}])
def test_no_authorizer_context_is_an_error(authorizer):
    with pytest.raises(InvalidTenantContext, match="no authorizer context"):
        TenantContext.from_authorizer(authorizer)
    with pytest.raises(InvalidTenantContext, match="no authorizer context"):
        Principal.from_authorizer(authorizer)


def test_no_request_context_is_an_error():
    with pytest.raises(InvalidTenantContext):
        TenantContext.from_event({"path": "/orders"})


def test_a_system_admin_principal_has_no_tenant():
    principal = Principal.from_authorizer(
        {"role": "SystemAdmin", "user_id": "root", "tenant_id": ""}
    )

    assert principal == Principal(user_id="root", role=Role.SYSTEM_ADMIN, tenant_id=None)


def test_a_tenant_principal_needs_its_tenant():
    with pytest.raises(MissingTenantId):
        Principal.from_authorizer({"role": "TenantUser", "user_id": "u-2"})


def test_a_tenant_principal_keeps_its_tenant():
    principal = Principal.from_authorizer(
        {"role": "TenantUser", "user_id": "u-2", "tenant_id": "t-9"}
    )

    assert principal.tenant_id == "t-9"
    assert principal.role is Role.TENANT_USER


def test_a_consumer_acts_as_the_producing_service_inside_the_events_tenant():
    producer_ctx = TenantContext.from_authorizer(AUTHORIZER)
    metadata = new_metadata(tenant_id="t-1", producer="saas.order", context=producer_ctx)

    ctx = TenantContext.from_envelope(metadata)

    assert ctx == TenantContext("t-1", Role.SERVICE, "saas.order", Tier.PREMIUM, RegionGroup.EU)


def test_an_envelope_without_tier_cannot_give_a_context():
    metadata = new_metadata(tenant_id="t-1", producer="saas.order")

    with pytest.raises(InvalidTenantContext, match="tier and region_group"):
        TenantContext.from_envelope(metadata)


def test_every_public_name_resolves_from_its_module() -> None:
    import tenant_context

    # Names are imported on first use (cold start): each one in __all__ must still resolve.
    assert sorted(tenant_context.__all__) == sorted(tenant_context._MODULE_OF)
    for name in tenant_context.__all__:
        assert getattr(tenant_context, name) is not None
