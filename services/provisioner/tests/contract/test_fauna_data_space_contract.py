"""The Fauna data space against a real FaunaDB: runs when FAUNA_ENDPOINT and FAUNA_SECRET name a
reachable FaunaDB (an admin secret), or when Docker is available (testcontainers starts
FAUNA_IMAGE). Otherwise it is skipped and says so. Secrets Manager is moto."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from provisioner_builders import tenant_image

from provisioner.domain.environment import DEFAULT_REGION_MAP, stack_ref_for
from provisioner.domain.tenant import Tenant

SKIP_REASON = (
    "no FaunaDB reachable: set FAUNA_ENDPOINT and FAUNA_SECRET (an admin secret), or run "
    "where Docker is available for testcontainers; no FaunaDB can run on this machine"
)


def _docker_available() -> bool:
    if shutil.which("docker") is None and not os.path.exists("/var/run/docker.sock"):
        return False
    try:
        import docker

        docker.from_env().ping()
    except Exception:
        return False
    return True


@pytest.fixture(scope="module")
def fauna_server() -> Iterator[tuple[str, str]]:
    endpoint, secret = os.environ.get("FAUNA_ENDPOINT"), os.environ.get("FAUNA_SECRET")
    if endpoint and secret:
        yield endpoint, secret
        return
    if not _docker_available():
        pytest.skip(SKIP_REASON)
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.waiting_utils import wait_for_logs

    image = os.environ.get("FAUNA_IMAGE", "fauna/faunadb")
    with DockerContainer(image).with_exposed_ports(8443) as server:
        wait_for_logs(server, "FaunaDB is ready", timeout=120)
        host, port = server.get_container_host_ip(), server.get_exposed_port(8443)
        yield f"http://{host}:{port}", "secret"


def test_a_tenant_data_space_is_made_usable_and_removed_without_a_trace(fauna_server, monkeypatch):
    """An empty child database and a key the services can apply their own schema with."""
    from fauna import fql
    from fauna.client import Client

    from provisioner.adapters.fauna_tenant_data_space import FaunaTenantDataSpace

    endpoint, secret = fauna_server
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    tenant = Tenant.from_record(tenant_image(f"t{uuid.uuid4().hex[:12]}", region_group="eu"))
    ref = stack_ref_for(tenant, DEFAULT_REGION_MAP)
    admin = Client(endpoint=endpoint, secret=secret)
    with mock_aws():
        secrets = boto3.client("secretsmanager", region_name=ref.region)
        space = FaunaTenantDataSpace(
            admin=admin,
            secrets_client_for=lambda region: boto3.client("secretsmanager", region_name=region),
        )

        facts = space.ensure(tenant, ref, {})
        space.ensure(tenant, ref, {})  # twice: still one database, one key

        stored = json.loads(
            secrets.get_secret_value(SecretId=facts["FaunaKeySecretName"])["SecretString"]
        )
        scoped = Client(endpoint=endpoint, secret=stored["secret"])
        # The provisioner declares no service's collections ...
        assert scoped.query(fql("Collection.all().count()")).data == 0
        # ... and the key it stores (role `server`) is enough for a service to apply its own
        # schema on first use: it may create a collection with an index (offboarding then
        # deletes the database with it).
        scoped.query(
            fql(
                "Collection.create({ name: 'order_probe', "
                "indexes: { byId: { terms: [{ field: '.order_id' }] } } })\nnull"
            )
        )
        assert scoped.query(fql("Collection.byName('order_probe') != null")).data is True
        keys = admin.query(
            fql("Key.all().where(.database == ${db}).count()", db=facts["FaunaDatabase"])
        ).data
        assert keys == 1

        space.remove(tenant, ref)

        gone = admin.query(fql("Database.byName(${db}) == null", db=facts["FaunaDatabase"])).data
        assert gone is True
        with pytest.raises(secrets.exceptions.ResourceNotFoundException):
            secrets.describe_secret(SecretId=facts["FaunaKeySecretName"])
