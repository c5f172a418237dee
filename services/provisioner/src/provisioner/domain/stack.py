"""Convergence rules over a stack's current state: what to do next to reach the desired state."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class Condition(StrEnum):
    ABSENT = "absent"
    IN_PROGRESS = "in_progress"  # CloudFormation is working on it: wait
    STABLE = "stable"  # *_COMPLETE: usable, can be updated (adopted when we did not create it)
    BROKEN = "broken"  # ROLLBACK_COMPLETE or *_FAILED: only deleting it helps


class Step(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    WAIT = "wait"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class StackState:
    status: str
    outputs: Mapping[str, str] = field(default_factory=dict)
    status_reason: str | None = None


@dataclass(frozen=True, slots=True)
class StackEvent:
    """One entry of the stack's event log, as CloudFormation reports it."""

    logical_resource_id: str
    resource_type: str
    status: str
    reason: str | None = None


def condition_of(state: StackState | None) -> Condition:
    if state is None or state.status == "DELETE_COMPLETE":
        return Condition.ABSENT
    status = state.status
    if status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
        return Condition.IN_PROGRESS
    # REVIEW_IN_PROGRESS: a change set that was never executed; it will not progress by itself.
    if status in ("ROLLBACK_COMPLETE", "REVIEW_IN_PROGRESS") or status.endswith("_FAILED"):
        return Condition.BROKEN
    return Condition.STABLE


def step_towards_present(state: StackState | None) -> Step:
    """Absent -> create; complete -> update (adopt); in progress -> wait; broken -> delete."""
    return {
        Condition.ABSENT: Step.CREATE,
        Condition.STABLE: Step.UPDATE,
        Condition.IN_PROGRESS: Step.WAIT,
        Condition.BROKEN: Step.DELETE,
    }[condition_of(state)]


def step_towards_absent(state: StackState | None) -> Step:
    condition = condition_of(state)
    if condition is Condition.ABSENT:
        return Step.DONE
    if condition is Condition.IN_PROGRESS:
        return Step.WAIT
    return Step.DELETE


def operation_succeeded(step: Step, state: StackState | None) -> bool:
    """Did the create or update we started end where we wanted it to?"""
    if state is None:
        return False
    if step is Step.CREATE:
        return state.status == "CREATE_COMPLETE"
    if step is Step.UPDATE:
        return state.status == "UPDATE_COMPLETE"
    raise ValueError(f"{step} is not an operation with a result")


def first_failure_reason(events_oldest_first: Sequence[StackEvent]) -> str | None:
    """The root cause of the latest operation: the first *_FAILED event with a reason after the
    stack itself last entered an *_IN_PROGRESS state (the operation's start)."""
    start = 0
    for index, event in enumerate(events_oldest_first):
        is_stack = event.resource_type == "AWS::CloudFormation::Stack"
        if is_stack and event.status in ("CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS"):
            start = index
    for event in events_oldest_first[start:]:
        if event.status.endswith("_FAILED") and event.reason:
            return f"{event.logical_resource_id}: {event.reason}"
    return None
