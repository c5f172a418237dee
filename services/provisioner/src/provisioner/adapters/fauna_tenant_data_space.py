"""TenantDataSpace on Fauna (FQL v10, the `fauna` driver): one child database per tenant with its
collections and indexes, and a key scoped to that database (role `server`) kept in Secrets Manager
as `saas/tenant/<id>/fauna`, in the tenant's region. Every step is idempotent, so a retried record
converges: the database and collections are created only when missing, and a key is made only when
the secret is missing (after deleting keys an earlier, interrupted attempt may have left)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError
from fauna import fql
from fauna.client import Client
from fauna.query import Query

from provisioner.domain.environment import StackRef
from provisioner.domain.tenant import Tenant

KEY_ROLE = "server"

# The collections every tenant database carries: those the product service's Fauna store reads
# and writes (Product, Reservation, ProcessedEvent, Outbox), and the order service's Order and
# KnownProduct.
COLLECTIONS: tuple[dict[str, Any], ...] = (
    {
        "name": "Product",
        "indexes": {
            "byPid": {"terms": [{"field": ".pid"}]},
            "sortedByPid": {"values": [{"field": ".pid"}]},
        },
        "constraints": [{"unique": [".pid"]}],
    },
    {
        "name": "Reservation",
        "indexes": {"byOrderId": {"terms": [{"field": ".order_id"}]}},
        "constraints": [{"unique": [".order_id"]}],
    },
    {
        "name": "ProcessedEvent",
        "indexes": {"byEventId": {"terms": [{"field": ".event_id"}]}},
        "constraints": [{"unique": [".event_id"]}],
    },
    {
        "name": "Outbox",
        "constraints": [{"unique": [".event_id"]}],
    },
    {
        "name": "Order",
        "indexes": {
            "byOrderId": {"terms": [{"field": ".order_id"}]},
            "sortedByOrderId": {"values": [{"field": ".order_id"}]},
            # GET /orders, newest first: `placed` is the time placed, then the id.
            "sortedByPlaced": {"values": [{"field": ".placed", "order": "desc"}]},
        },
        "constraints": [{"unique": [".order_id"]}],
    },
    # The order service's projection of the tenant's product ids (POST /orders checks it).
    {
        "name": "KnownProduct",
        "indexes": {"byPid": {"terms": [{"field": ".pid"}]}},
        "constraints": [{"unique": [".pid"]}],
    },
)

ENSURE_DATABASE = (
    "if (Database.byName(${name}) == null) "
    "Database.create({ name: ${name}, data: { tenant_id: ${tenant_id} } })\nnull"
)
ENSURE_COLLECTION = "if (Collection.byName(${name}) == null) Collection.create(${definition})\nnull"
NEW_KEY = (
    "Key.all().where(.database == ${database}).forEach(.delete())\n"
    "Key.create({ role: ${role}, database: ${database}, data: { tenant_id: ${tenant_id} } }) "
    "{ secret }"
)
REMOVE_DATABASE = (
    "Key.all().where(.database == ${database}).forEach(.delete())\n"
    "Database.byName(${database})?.delete()\nnull"
)


def secret_name(tenant_id: str) -> str:
    return f"saas/tenant/{tenant_id}/fauna"


def ensure_database(name: str, tenant_id: str) -> Query:
    return fql(ENSURE_DATABASE, name=name, tenant_id=tenant_id)


def ensure_collections() -> Query:
    """One query (one transaction) that creates each missing collection with its indexes."""
    parts = {
        f"c{i}": fql(ENSURE_COLLECTION, name=definition["name"], definition=definition)
        for i, definition in enumerate(COLLECTIONS)
    }
    return fql("\n".join(f"${{{key}}}" for key in parts) + "\nnull", **parts)


def new_key(database: str, tenant_id: str) -> Query:
    return fql(NEW_KEY, database=database, role=KEY_ROLE, tenant_id=tenant_id)


def remove_database(database: str) -> Query:
    return fql(REMOVE_DATABASE, database=database)


class FaunaTenantDataSpace:
    def __init__(
        self,
        admin: Client,
        child_admin: Callable[[str], Client],
        secrets_client_for: Callable[[str], Any],
        child_db_pattern: str = "tenant_{tenant_id}",
    ) -> None:
        """`admin` can manage child databases; `child_admin(db)` is a client inside one (a scoped
        admin secret); `secrets_client_for(region)` is Secrets Manager in that region."""
        self._admin = admin
        self._child_admin = child_admin
        self._secrets_client_for = secrets_client_for
        self._pattern = child_db_pattern

    def database_name(self, tenant_id: str) -> str:
        return self._pattern.format(tenant_id=tenant_id)

    def ensure(self, tenant: Tenant, ref: StackRef, outputs: Mapping[str, str]) -> dict[str, str]:
        database = self.database_name(tenant.tenant_id)
        self._admin.query(ensure_database(database, tenant.tenant_id))
        self._child_admin(database).query(ensure_collections())
        secrets = self._secrets_client_for(ref.region)
        name = secret_name(tenant.tenant_id)
        if not self._secret_exists(secrets, name):
            key = self._admin.query(new_key(database, tenant.tenant_id)).data
            value = json.dumps({"secret": key["secret"], "database": database, "role": KEY_ROLE})
            try:
                secrets.create_secret(
                    Name=name,
                    SecretString=value,
                    Description=f"Fauna key scoped to tenant {tenant.tenant_id}'s database",
                    Tags=[{"Key": "saas:tenant-id", "Value": tenant.tenant_id}],
                )
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ResourceExistsException":
                    raise
                secrets.put_secret_value(SecretId=name, SecretString=value)
        return {"FaunaDatabase": database, "FaunaKeySecretName": name}

    def remove(self, tenant: Tenant, ref: StackRef) -> None:
        self._admin.query(remove_database(self.database_name(tenant.tenant_id)))
        try:
            self._secrets_client_for(ref.region).delete_secret(
                SecretId=secret_name(tenant.tenant_id), ForceDeleteWithoutRecovery=True
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise

    @staticmethod
    def _secret_exists(secrets: Any, name: str) -> bool:
        try:
            secrets.describe_secret(SecretId=name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                return False
            raise
        return True
