"""The compatibility gate: each exported event schema against every earlier committed version of
the same file (same major) in git history.

A change fails when it
- removes or renames a field a consumer reads (or changes it so the consumer cannot read it),
- narrows a type or adds a required field: the new schema could no longer read events already
  published under an earlier version (in flight, in the archive, in the event log for replay).
Additive optional fields pass. A breaking change is a new major: a new file `<Type>.v<n+1>.json`
published side by side, which has no history to break.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from saas_devtools.contracts.compatibility import Problem, read_fields, reader_problems
from saas_devtools.contracts.discovery import Service, event_major, iter_consumers

SCHEMA_FILE = re.compile(r"^(?P<detail_type>[A-Za-z0-9]+)\.v(?P<major>[0-9]+)\.json$")


class ShallowClone(Exception):
    """The history the gate needs is not in this clone."""


@dataclass(frozen=True)
class EventContract:
    producer: str  # the producing service's name ("order")
    detail_type: str
    major: int
    path: Path  # inside the repository


@dataclass(frozen=True)
class Reader:
    consumer: str  # the consuming service's name
    schema: Mapping[str, Any]


@dataclass(frozen=True)
class Violation:
    contract: EventContract
    consumer: str | None  # None: the producer's own new schema against its published events
    problem: Problem
    commit: str

    def __str__(self) -> str:
        who = self.consumer or "every reader of published events (archive, event log)"
        c = self.contract
        return (
            f"producer {c.producer}, {c.detail_type} v{c.major}, consumer {who}: {self.problem} "
            f"(against {c.path.as_posix()} at {self.commit[:12]}; a breaking change needs "
            f"{c.detail_type}.v{c.major + 1}.json side by side)"
        )


def contracts_in(repo: Path) -> list[EventContract]:
    """Every exported event schema in the working tree: services/<svc>/contracts/events/*."""
    contracts = []
    for path in sorted(repo.glob("services/*/contracts/events/*.json")):
        match = SCHEMA_FILE.match(path.name)
        if match:
            contracts.append(
                EventContract(
                    producer=path.parents[2].name,
                    detail_type=match["detail_type"],
                    major=int(match["major"]),
                    path=path.relative_to(repo),
                )
            )
    return contracts


def ensure_full_history(repo: Path) -> None:
    shallow = _git(repo, "rev-parse", "--is-shallow-repository").strip()
    if shallow == "true":
        raise ShallowClone(
            "this clone is shallow: the schemas' earlier versions are not here; fetch the full "
            "history (git fetch --unshallow, or actions/checkout with fetch-depth: 0)"
        )


def committed_versions(repo: Path, path: Path) -> list[tuple[str, dict[str, Any]]]:
    """(commit, schema) for every commit that changed the file, newest first."""
    log = _git(repo, "log", "--format=%H", "--", path.as_posix())
    versions = []
    for commit in log.split():
        shown = subprocess.run(
            ["git", "show", f"{commit}:{path.as_posix()}"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=False,
        )
        if shown.returncode == 0:  # not a commit that deleted the file
            versions.append((commit, json.loads(shown.stdout)))
    return versions


def check_history(
    repo: Path,
    contracts: Iterable[EventContract],
    readers: Mapping[tuple[str, str, int], list[Reader]],
) -> list[Violation]:
    """Violations of every contract against its history. `readers` is keyed by (producer,
    detail-type, major). Raises ShallowClone when the history is not there."""
    ensure_full_history(repo)
    violations: list[Violation] = []
    for contract in contracts:
        current = json.loads((repo / contract.path).read_text(encoding="utf-8"))
        consumers = readers.get((contract.producer, contract.detail_type, contract.major), [])
        for commit, earlier in committed_versions(repo, contract.path):
            for problem in reader_problems(current, earlier):
                _add(violations, Violation(contract, None, problem, commit))
            for reader in consumers:
                # A field the reader declares, even with a default, is read: its removal would
                # silently turn into the default.
                removed = sorted(
                    (read_fields(reader.schema) & read_fields(earlier)) - read_fields(current)
                )
                for field in removed:
                    hint = _renamed_hint(field, earlier, current)
                    problem = Problem(
                        field,
                        "removed",
                        f"read by the consumer, removed from the producer's schema{hint}",
                    )
                    _add(violations, Violation(contract, reader.consumer, problem, commit))
                before = set(reader_problems(reader.schema, earlier))
                for problem in reader_problems(reader.schema, current):
                    if problem not in before and problem.field not in removed:
                        _add(violations, Violation(contract, reader.consumer, problem, commit))
    return violations


def _renamed_hint(field: str, earlier: Mapping[str, Any], current: Mapping[str, Any]) -> str:
    parent = field.rpartition(".")[0]
    added = sorted(
        f.rpartition(".")[2]
        for f in read_fields(current) - read_fields(earlier)
        if f.rpartition(".")[0] == parent
    )
    return f" (renamed to {', '.join(repr(a) for a in added)}?)" if added else ""


def _add(violations: list[Violation], violation: Violation) -> None:
    # One report per (contract, consumer, field, kind), against the newest version it breaks.
    def key(v: Violation) -> tuple[object, ...]:
        return (v.contract, v.consumer, v.problem.field, v.problem.kind)

    if all(key(v) != key(violation) for v in violations):
        violations.append(violation)


def workspace_readers(services: Iterable[Service]) -> dict[tuple[str, str, int], list[Reader]]:
    """Every consumer's reader model as a JSON Schema, keyed by what it reads."""
    readers: dict[tuple[str, str, int], list[Reader]] = {}
    for consumer, source, detail_type, model in iter_consumers(list(services)):
        key = (source.removeprefix("saas."), detail_type, event_major(model))
        schema = model.model_json_schema(mode="validation")
        readers.setdefault(key, []).append(Reader(consumer.name, schema))
    return readers


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout
