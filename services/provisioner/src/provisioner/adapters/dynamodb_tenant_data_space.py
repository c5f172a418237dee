"""TenantDataSpace on DynamoDB. Basic tier: the services' pooled tables already hold the tenant
(tenant id leads every key), so there is nothing more to make. Premium tier: the tables come from
the tenant's stack; this checks that each table the stack names is there and ACTIVE before the
tenant is announced, so no service writes to a table that is still being created."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from provisioner.domain.environment import StackRef
from provisioner.domain.errors import ProvisionerError
from provisioner.domain.tenant import Tenant, Tier

TABLE_OUTPUTS = ("ProductsTableName", "OrdersTableName")


class TenantTablesNotReady(ProvisionerError):
    """A premium stack completed but a table it names is missing or not ACTIVE (retried)."""


class DynamoDBTenantDataSpace:
    def __init__(self, dynamodb_client_for: Callable[[str], Any]) -> None:
        self._client_for = dynamodb_client_for

    def ensure(self, tenant: Tenant, ref: StackRef, outputs: Mapping[str, str]) -> dict[str, str]:
        if tenant.tier is not Tier.PREMIUM:
            return {}
        client = self._client_for(ref.region)
        for output in TABLE_OUTPUTS:
            table = outputs.get(output)
            if not table:
                raise TenantTablesNotReady(f"{ref.stack_name} has no {output} output")
            status = client.describe_table(TableName=table)["Table"]["TableStatus"]
            if status != "ACTIVE":
                raise TenantTablesNotReady(f"{table} is {status}")
        return {}

    def remove(self, tenant: Tenant, ref: StackRef) -> None:
        """Premium tables go with the stack; pooled items are each service's to delete when it
        hears TenantDeprovisioned."""
