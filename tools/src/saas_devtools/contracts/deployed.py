"""What each service has deployed in a stage, and whether a candidate may join them.

Every deploy records the service's version and its contracts as one JSON document, an S3 object
`contracts/<service>.json` in the stage's bucket (`saas-<stage>-contracts-<account>`, or the
bucket SAAS_CONTRACTS_BUCKET names). S3 and not SSM: one service's contracts are 1-37 KB today
(the tenant's OpenAPI alone is 30 KB) and an SSM parameter holds 8 KB at most; the bucket is
versioned, so the history of what was deployed is kept too.

`can_i_deploy` checks the candidate (the working tree's contracts of one service) against the
records of the OTHER services of the stage:
- as a consumer: each event it reads is published by the deployed producer, with every field the
  reader requires, in a type and range it accepts;
- as a producer: each deployed consumer can still read what the candidate publishes, and no field
  a deployed consumer reads disappears (a field read with a default would silently become the
  default);
- its routes are claimed by no other deployed service (the gateway and the authorizer would not
  know whose route it is).
A breaking change to its own HTTP API (an operation removed, a request the deployed API accepted
that the candidate refuses) is a warning: API clients are not recorded, so nothing can say
whether one still sends it.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from saas_devtools.contracts.compatibility import Problem, read_fields, reader_problems
from saas_devtools.contracts.discovery import event_major, find_services
from saas_devtools.contracts.gate import SCHEMA_FILE

RECORD_FORMAT = 1
BUCKET_ENV = "SAAS_CONTRACTS_BUCKET"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@dataclass(frozen=True)
class Contracts:
    """One service's contracts at one version, as recorded (and as read from the tree)."""

    service: str
    version: str
    events: dict[str, Any] = field(default_factory=dict)  # "OrderPlaced.v1" -> JSON Schema
    # "saas.order|OrderPlaced|1" -> the consumer's reader model as a JSON Schema
    readers: dict[str, Any] = field(default_factory=dict)
    openapi: dict[str, Any] | None = None
    permissions: dict[str, Any] | None = None

    def to_document(self, recorded_at: datetime) -> dict[str, Any]:
        return {
            "format": RECORD_FORMAT,
            "service": self.service,
            "version": self.version,
            "recorded_at": recorded_at.isoformat(),
            "events": self.events,
            "readers": self.readers,
            "openapi": self.openapi,
            "permissions": self.permissions,
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Contracts:
        if document.get("format") != RECORD_FORMAT:
            raise ValueError(f"unknown deployed-contracts format {document.get('format')!r}")
        return cls(
            service=str(document["service"]),
            version=str(document["version"]),
            events=dict(document.get("events") or {}),
            readers=dict(document.get("readers") or {}),
            openapi=document.get("openapi"),
            permissions=document.get("permissions"),
        )


def reader_key(source: str, detail_type: str, major: int) -> str:
    return f"{source}|{detail_type}|{major}"


def split_reader_key(key: str) -> tuple[str, str, int]:
    source, detail_type, major = key.split("|")
    return source, detail_type, int(major)


def candidate(workspace: Path, service: str) -> Contracts:
    """The working tree's contracts of `service`: its committed contract files (every major
    published side by side) and its reader models from the code."""
    root = workspace / "services" / service
    if not root.is_dir():
        known = sorted(p.name for p in (workspace / "services").iterdir() if p.is_dir())
        raise LookupError(f"no service {service!r} (known: {', '.join(known)})")
    contracts_dir = root / "contracts"
    events: dict[str, Any] = {}
    for path in sorted((contracts_dir / "events").glob("*.json")):
        match = SCHEMA_FILE.match(path.name)
        if match:
            events[f"{match['detail_type']}.v{match['major']}"] = _load(path)
    readers: dict[str, Any] = {}
    for found in find_services(workspace):
        if found.name == service:
            for (source, detail_type), model in sorted(found.consumed().items()):
                key = reader_key(source, detail_type, event_major(model))
                readers[key] = model.model_json_schema(mode="validation")
    openapi = contracts_dir / "openapi.json"
    permissions = contracts_dir / "permissions.json"
    return Contracts(
        service=service,
        version=version_of(workspace, service),
        events=events,
        readers=readers,
        openapi=_load(openapi) if openapi.is_file() else None,
        permissions=_load(permissions) if permissions.is_file() else None,
    )


def version_of(workspace: Path, service: str) -> str:
    """`<pyproject version>+<commit>` (`.dirty` when the service's folder has uncommitted
    changes): what is deployed, to the commit."""
    pyproject = workspace / "services" / service / "pyproject.toml"
    version = "0"
    if pyproject.is_file():
        found = re.search(r'^version = "([^"]+)"', pyproject.read_text(encoding="utf-8"), re.M)
        version = found[1] if found else version
    commit = _git(workspace, "rev-parse", "--short=12", "HEAD")
    if commit is None:
        return version
    dirty = _git(workspace, "status", "--porcelain", "--", f"services/{service}")
    return f"{version}+{commit}{'.dirty' if dirty else ''}"


def _git(workspace: Path, *args: str) -> str | None:
    done = subprocess.run(
        ["git", *args], cwd=workspace, capture_output=True, text=True, check=False
    )
    return done.stdout.strip() if done.returncode == 0 else None


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


class DeployedContracts:
    """The stage's records: one versioned S3 object per service."""

    PREFIX = "contracts/"

    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    @property
    def bucket(self) -> str:
        return self._bucket

    def record(self, contracts: Contracts, now: datetime | None = None) -> str:
        """Write the record (creating the stage's bucket, versioned, on first use); the key."""
        self._ensure_bucket()
        key = f"{self.PREFIX}{contracts.service}.json"
        body = json.dumps(contracts.to_document(now or datetime.now(UTC)), sort_keys=True)
        self._s3.put_object(
            Bucket=self._bucket, Key=key, Body=body.encode(), ContentType="application/json"
        )
        return key

    def all(self) -> dict[str, Contracts]:
        """Every service's record, by service name; {} when nothing was recorded yet."""
        if not self._exists():
            return {}
        records: dict[str, Contracts] = {}
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=self.PREFIX):
            for item in page.get("Contents", []):
                body = self._s3.get_object(Bucket=self._bucket, Key=item["Key"])["Body"].read()
                contracts = Contracts.from_document(json.loads(body))
                records[contracts.service] = contracts
        return records

    def _exists(self) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._s3.head_bucket(Bucket=self._bucket)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchBucket", "NotFound"}:
                return False
            raise
        return True

    def _ensure_bucket(self) -> None:
        if self._exists():
            return
        region = self._s3.meta.region_name
        location = {} if region == "us-east-1" else {"LocationConstraint": region}
        self._s3.create_bucket(
            Bucket=self._bucket,
            **({"CreateBucketConfiguration": location} if location else {}),
        )
        self._s3.put_bucket_versioning(
            Bucket=self._bucket, VersioningConfiguration={"Status": "Enabled"}
        )
        self._s3.put_public_access_block(
            Bucket=self._bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )


def bucket_name(stage: str, account: str) -> str:
    return f"saas-{stage}-contracts-{account}"


@dataclass(frozen=True)
class Finding:
    severity: str  # "refused" or "warning"
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"


def can_i_deploy(new: Contracts, deployed: Mapping[str, Contracts]) -> list[Finding]:
    """What stands in the way of deploying `new` next to the other services' records."""
    others = {name: c for name, c in deployed.items() if name != new.service}
    previous = deployed.get(new.service)
    findings = [*_as_consumer(new, others), *_as_producer(new, others, previous)]
    findings += _routes(new, others)
    if previous is not None:
        findings += _api(new, previous)
    return findings


def _as_consumer(new: Contracts, others: Mapping[str, Contracts]) -> Iterable[Finding]:
    for key, reader in sorted(new.readers.items()):
        source, detail_type, major = split_reader_key(key)
        producer_name = source.removeprefix("saas.")
        producer = new if producer_name == new.service else others.get(producer_name)
        what = f"{new.service} ({new.version}) reads {detail_type} v{major} of {producer_name}"
        if producer is None:
            yield Finding("warning", f"{what}: {producer_name} has no record in this stage")
            continue
        schema = producer.events.get(f"{detail_type}.v{major}")
        if schema is None:
            published = ", ".join(sorted(producer.events)) or "nothing"
            yield Finding(
                "refused",
                f"{what}, which {producer_name} ({producer.version}) does not publish "
                f"(it publishes {published})",
            )
            continue
        for problem in reader_problems(reader, schema):
            yield Finding(
                "refused",
                f"{what}: {problem} (deployed producer {producer_name} {producer.version})",
            )


def _as_producer(
    new: Contracts, others: Mapping[str, Contracts], previous: Contracts | None
) -> Iterable[Finding]:
    for consumer in sorted(others.values(), key=lambda c: c.service):
        for key, reader in sorted(consumer.readers.items()):
            source, detail_type, major = split_reader_key(key)
            if source != f"saas.{new.service}":
                continue
            name = f"{detail_type}.v{major}"
            what = (
                f"{new.service} ({new.version}) publishes {detail_type} v{major} read by the "
                f"deployed consumer {consumer.service} ({consumer.version})"
            )
            schema = new.events.get(name)
            if schema is None:
                yield Finding(
                    "refused",
                    f"{new.service} ({new.version}) no longer publishes {detail_type} v{major}, "
                    f"which the deployed consumer {consumer.service} ({consumer.version}) reads",
                )
                continue
            removed: list[str] = []
            earlier = previous.events.get(name) if previous is not None else None
            if earlier is not None:
                removed = sorted((read_fields(reader) & read_fields(earlier)) - read_fields(schema))
                for path in removed:
                    problem = Problem(path, "removed", "read by the consumer, removed")
                    yield Finding("refused", f"{what}: {problem}")
            for problem in reader_problems(reader, schema):
                if problem.field not in removed:
                    yield Finding("refused", f"{what}: {problem}")


def _route_set(contracts: Contracts) -> set[tuple[str, str]]:
    routes = (contracts.permissions or {}).get("routes", [])
    return {(str(r["method"]).upper(), str(r["path"])) for r in routes}


def _routes(new: Contracts, others: Mapping[str, Contracts]) -> Iterable[Finding]:
    mine = _route_set(new)
    for other in sorted(others.values(), key=lambda c: c.service):
        for method, path in sorted(mine & _route_set(other)):
            yield Finding(
                "refused",
                f"{new.service} ({new.version}) declares the route {method} {path}, which the "
                f"deployed service {other.service} ({other.version}) already serves",
            )


def _operations(openapi: Mapping[str, Any] | None) -> dict[tuple[str, str], Any]:
    operations: dict[tuple[str, str], Any] = {}
    for path, item in ((openapi or {}).get("paths") or {}).items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                operations[(method.upper(), path)] = operation
    return operations


def _request_schema(openapi: Mapping[str, Any], operation: Mapping[str, Any]) -> Any | None:
    content = (operation.get("requestBody") or {}).get("content") or {}
    schema = (content.get("application/json") or {}).get("schema")
    if schema is None:
        return None
    # The document is the root: local $refs (#/components/schemas/...) resolve in it.
    return {**openapi, **schema}


def _api(new: Contracts, previous: Contracts) -> Iterable[Finding]:
    before, after = _operations(previous.openapi), _operations(new.openapi)
    who = f"API of {new.service} ({previous.version} deployed, {new.version} candidate)"
    for method, path in sorted(set(before) - set(after)):
        yield Finding("warning", f"{who}: {method} {path} removed; a client calling it breaks")
    for key in sorted(set(before) & set(after)):
        if previous.openapi is None or new.openapi is None:
            break
        old_request = _request_schema(previous.openapi, before[key])
        new_request = _request_schema(new.openapi, after[key])
        if old_request is None or new_request is None:
            continue
        # The candidate reads what clients of the deployed API send.
        for problem in reader_problems(new_request, old_request):
            yield Finding(
                "warning",
                f"{who}: {key[0]} {key[1]} request body {problem}; a client sending what the "
                "deployed API accepts may be refused",
            )
