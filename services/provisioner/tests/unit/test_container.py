"""The composition root: one typed cached property per dependency, the backend chosen inside
the property from Settings, and one process-wide container that tests can replace."""

from __future__ import annotations

from functools import cached_property

import pytest

import provisioner.container as composition
from provisioner.adapters.dynamodb_tenant_data_space import DynamoDBTenantDataSpace
from provisioner.adapters.fauna_tenant_data_space import FaunaTenantDataSpace
from provisioner.adapters.memory_event_publisher import MemoryEventPublisher
from provisioner.adapters.memory_tenant_data_space import MemoryTenantDataSpace
from provisioner.container import Container, Settings, container, use_container


def build(**environ: str) -> Container:
    return Container(Settings.from_environ(environ))


def test_every_dependency_is_typed_with_its_port_or_use_case():
    properties = {
        name: value for name, value in vars(Container).items() if isinstance(value, cached_property)
    }
    # The annotations are strings (postponed); the names resolve in the container's module.
    hints = {
        name: getattr(composition, prop.func.__annotations__["return"], None)
        for name, prop in properties.items()
        if name != "aws"  # the process's AWS clients: what adapters are built from, not a port
    }

    assert {"reconciler", "event_publisher", "data_space", "tenant_stacks"} <= set(hints)
    untyped = {
        name: hint
        for name, hint in hints.items()
        if hint is None
        or not hint.__module__.startswith(("provisioner.ports.", "provisioner.app."))
    }
    assert untyped == {}


@pytest.mark.parametrize(
    ("environ", "adapter"),
    [
        ({"BACKEND": "memory"}, MemoryTenantDataSpace),
        ({"BACKEND": "dynamodb"}, DynamoDBTenantDataSpace),
        ({"BACKEND": "fauna", "FAUNA_SECRET": "fnAdmin"}, FaunaTenantDataSpace),
    ],
)
def test_the_data_space_follows_the_backend(environ, adapter):
    assert isinstance(build(**environ).data_space, adapter)


def test_fauna_without_a_secret_fails_naming_the_setting():
    with pytest.raises(ValueError, match="FAUNA_SECRET"):
        build(BACKEND="fauna").data_space  # noqa: B018


def test_a_dependency_is_built_once_and_a_swap_before_first_use_is_what_others_get():
    deps = build(BACKEND="memory")
    publisher = MemoryEventPublisher()
    deps.event_publisher = publisher

    assert deps.reconciler is deps.reconciler
    assert deps.reconciler._publisher is publisher


def test_the_process_wide_container_is_built_once_and_can_be_replaced():
    replacement = build(BACKEND="memory")
    try:
        use_container(None)
        first = container()
        assert container() is first

        use_container(replacement)
        assert container() is replacement
    finally:
        use_container(None)
