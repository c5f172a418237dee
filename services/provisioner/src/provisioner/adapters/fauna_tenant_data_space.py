"""TenantDataSpace on Fauna (FQL v10, the `fauna` driver): one child database per tenant, and a key
scoped to that database (role `server`) kept in Secrets Manager as `saas/tenant/<id>/fauna`, in the
tenant's region. The database is empty: each service declares its own collections and applies them
itself on first use (role `server` may manage collections and indexes; only roles, child
databases, keys and tokens are beyond it), so the provisioner knows no service's schema.

Every step is idempotent, so a retried record converges: the database is created only when
missing, and a key is made only when the secret is missing (after deleting keys an earlier,
interrupted attempt may have left). Offboarding deletes the keys, the database with everything
in it, and the secret."""

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

ENSURE_DATABASE = (
    "if (Database.byName(${name}) == null) "
    "Database.create({ name: ${name}, data: { tenant_id: ${tenant_id} } })\nnull"
)
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


def new_key(database: str, tenant_id: str) -> Query:
    return fql(NEW_KEY, database=database, role=KEY_ROLE, tenant_id=tenant_id)


def remove_database(database: str) -> Query:
    return fql(REMOVE_DATABASE, database=database)


class FaunaTenantDataSpace:
    def __init__(
        self,
        admin: Client,
        secrets_client_for: Callable[[str], Any],
        child_db_pattern: str = "tenant_{tenant_id}",
    ) -> None:
        """`admin` can manage child databases and their keys; `secrets_client_for(region)` is
        Secrets Manager in that region."""
        self._admin = admin
        self._secrets_client_for = secrets_client_for
        self._pattern = child_db_pattern

    def database_name(self, tenant_id: str) -> str:
        return self._pattern.format(tenant_id=tenant_id)

    def ensure(self, tenant: Tenant, ref: StackRef, outputs: Mapping[str, str]) -> dict[str, str]:
        database = self.database_name(tenant.tenant_id)
        self._admin.query(ensure_database(database, tenant.tenant_id))
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
