"""TenantStacks on CloudFormation, in the tenant's region, through the region group's deployment
role (adapters/sts_deployment_sessions.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from provisioner.adapters.sts_deployment_sessions import DeploymentSessions
from provisioner.domain.environment import DesiredEnvironment, StackRef
from provisioner.domain.errors import StackOperationRejected
from provisioner.domain.stack import StackEvent, StackState

TENANT_TAG = "saas:tenant-id"
_NO_UPDATES = "No updates are to be performed"
_EVENT_PAGES = 3


def _error(exc: ClientError) -> tuple[str, str]:
    error = exc.response.get("Error", {})
    return str(error.get("Code", "")), str(error.get("Message", ""))


def _missing(exc: ClientError) -> bool:
    code, message = _error(exc)
    return code == "ValidationError" and "does not exist" in message


class CloudFormationTenantStacks:
    def __init__(self, sessions: DeploymentSessions, template_body: str) -> None:
        self._sessions = sessions
        self._template_body = template_body

    def describe(self, ref: StackRef) -> StackState | None:
        client = self._sessions.cloudformation(ref)
        try:
            stacks = client.describe_stacks(StackName=ref.stack_name)["Stacks"]
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        if not stacks or stacks[0]["StackStatus"] == "DELETE_COMPLETE":
            return None
        stack = stacks[0]
        return StackState(
            status=stack["StackStatus"],
            outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
            status_reason=stack.get("StackStatusReason"),
        )

    def create(self, desired: DesiredEnvironment) -> None:
        ref = desired.ref
        try:
            self._sessions.cloudformation(ref).create_stack(
                StackName=ref.stack_name,
                TemplateBody=self._template_body,
                Parameters=self._parameters(desired),
                Tags=[{"Key": TENANT_TAG, "Value": ref.tenant_id}],
                OnFailure="ROLLBACK",
            )
        except ClientError as exc:
            code, message = _error(exc)
            if code in ("ValidationError", "AlreadyExistsException", "InsufficientCapabilities"):
                raise StackOperationRejected(ref.stack_name, message) from None
            raise

    def update(self, desired: DesiredEnvironment) -> bool:
        ref = desired.ref
        try:
            self._sessions.cloudformation(ref).update_stack(
                StackName=ref.stack_name,
                TemplateBody=self._template_body,
                Parameters=self._parameters(desired),
                Tags=[{"Key": TENANT_TAG, "Value": ref.tenant_id}],
            )
        except ClientError as exc:
            code, message = _error(exc)
            if code == "ValidationError" and _NO_UPDATES in message:
                return False
            if code in ("ValidationError", "InsufficientCapabilities"):
                raise StackOperationRejected(ref.stack_name, message) from None
            raise
        return True

    def delete(self, ref: StackRef) -> None:
        try:
            self._sessions.cloudformation(ref).delete_stack(StackName=ref.stack_name)
        except ClientError as exc:
            if not _missing(exc):
                raise

    def events(self, ref: StackRef) -> Sequence[StackEvent]:
        client = self._sessions.cloudformation(ref)
        newest_first: list[StackEvent] = []
        kwargs: dict[str, Any] = {"StackName": ref.stack_name}
        try:
            for _ in range(_EVENT_PAGES):
                page = client.describe_stack_events(**kwargs)
                newest_first.extend(
                    StackEvent(
                        logical_resource_id=e.get("LogicalResourceId", ""),
                        resource_type=e.get("ResourceType", ""),
                        status=e.get("ResourceStatus", ""),
                        reason=e.get("ResourceStatusReason"),
                    )
                    for e in page.get("StackEvents", [])
                )
                if "NextToken" not in page:
                    break
                kwargs["NextToken"] = page["NextToken"]
        except ClientError as exc:
            if _missing(exc):
                return []
            raise
        return list(reversed(newest_first))

    @staticmethod
    def _parameters(desired: DesiredEnvironment) -> list[dict[str, str]]:
        return [
            {"ParameterKey": key, "ParameterValue": value}
            for key, value in sorted(desired.parameters.items())
        ]
