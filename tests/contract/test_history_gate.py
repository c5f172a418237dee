"""The compatibility gate over git history, on a throwaway repository with fixture schemas.

Given an event schema committed in git and a consumer that reads some of its fields, when the
producer changes the schema in the working tree, then the gate fails naming producer, consumer
and field for a removed, renamed or narrowed field or a new required field, and passes an added
optional field or a new major published side by side.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from saas_devtools.contracts.export import render
from saas_devtools.contracts.gate import (
    Reader,
    ShallowClone,
    Violation,
    check_history,
    contracts_in,
)

SCHEMA = Path("services/shop/contracts/events/OrderRejected.v1.json")


class OrderRejected(BaseModel):
    order_id: str
    reason: str
    quantity: float


class BillingReader(BaseModel):
    """What the billing consumer reads of OrderRejected v1."""

    order_id: str
    reason: str
    quantity: float


READERS = {("shop", "OrderRejected", 1): [Reader("billing", BillingReader.model_json_schema())]}


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout


def _write(repo: Path, path: Path, schema: dict[str, Any]) -> None:
    (repo / path).parent.mkdir(parents=True, exist_ok=True)
    (repo / path).write_text(render(schema), encoding="utf-8")


def _commit(repo: Path, message: str) -> None:
    _git(repo, "add", "services")
    _git(
        repo,
        "-c",
        "user.name=gate",
        "-c",
        "user.email=gate@example.invalid",
        "commit",
        "-qm",
        message,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository whose history holds OrderRejected v1 as the producer first published it."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    _write(repo, SCHEMA, OrderRejected.model_json_schema(mode="serialization"))
    _commit(repo, "publish OrderRejected v1")
    return repo


def _gate(repo: Path) -> list[Violation]:
    return check_history(repo, contracts_in(repo), READERS)


def _changed(repo: Path, model: type[BaseModel], path: Path = SCHEMA) -> list[str]:
    _write(repo, path, model.model_json_schema(mode="serialization"))
    return [str(v) for v in _gate(repo)]


def test_the_unchanged_schema_passes(repo: Path) -> None:
    assert _gate(repo) == []


def test_a_removed_field_a_consumer_reads_fails_naming_producer_consumer_and_field(
    repo: Path,
) -> None:
    class WithoutReason(BaseModel):
        order_id: str
        quantity: float

    messages = _changed(repo, WithoutReason)

    assert len(messages) == 1
    assert messages[0].startswith(
        "producer shop, OrderRejected v1, consumer billing: field "
        "'reason': read by the consumer, removed from the producer's schema"
    )
    assert "a breaking change needs OrderRejected.v2.json side by side" in messages[0]


def test_a_renamed_field_fails_for_the_consumer_and_for_published_events(repo: Path) -> None:
    class Renamed(BaseModel):
        order_id: str
        rejection_reason: str
        quantity: float

    messages = _changed(repo, Renamed)

    assert any(
        m.startswith(
            "producer shop, OrderRejected v1, consumer billing: field 'reason': "
            "read by the consumer, removed from the producer's schema (renamed to "
            "'rejection_reason'?)"
        )
        for m in messages
    ), messages
    assert any(
        "consumer every reader of published events" in m and "'rejection_reason'" in m
        for m in messages
    ), messages


def test_a_narrowed_type_fails(repo: Path) -> None:
    class Narrowed(BaseModel):
        order_id: str
        reason: str
        quantity: int  # was float: events already published with 1.5 no longer read

    messages = _changed(repo, Narrowed)

    assert messages == [
        "producer shop, OrderRejected v1, consumer every reader of published events (archive, "
        "event log): field 'quantity': writer sends number, reader accepts only integer "
        f"(against {SCHEMA.as_posix()} at {_git(repo, 'rev-parse', 'HEAD')[:12]}; a breaking "
        "change needs OrderRejected.v2.json side by side)"
    ]


def test_removing_a_field_the_consumer_reads_with_a_default_fails(repo: Path) -> None:
    """Its removal would silently turn into the reader's default."""

    class NoteReader(BaseModel):
        order_id: str
        note: str = ""

    class WithNote(BaseModel):
        order_id: str
        reason: str
        quantity: float
        note: str | None = None

    class WithoutNote(BaseModel):
        order_id: str
        reason: str
        quantity: float

    readers = {("shop", "OrderRejected", 1): [Reader("audit", NoteReader.model_json_schema())]}
    _write(repo, SCHEMA, WithNote.model_json_schema(mode="serialization"))
    _commit(repo, "optional note")
    _write(repo, SCHEMA, WithoutNote.model_json_schema(mode="serialization"))

    messages = [str(v) for v in check_history(repo, contracts_in(repo), readers)]

    assert len(messages) == 1
    assert "consumer audit: field 'note': read by the consumer, removed" in messages[0]


def test_a_new_required_field_fails(repo: Path) -> None:
    class WithRequired(BaseModel):
        order_id: str
        reason: str
        quantity: float
        rejected_by: str

    messages = _changed(repo, WithRequired)

    assert len(messages) == 1
    assert "field 'rejected_by': required by the reader, absent from the writer" in messages[0]


def test_an_added_optional_field_passes(repo: Path) -> None:
    class WithOptional(BaseModel):
        order_id: str
        reason: str
        quantity: float
        detail: str | None = None

    assert _changed(repo, WithOptional) == []


def test_every_earlier_version_is_checked_not_only_the_last(repo: Path) -> None:
    class WithOptional(BaseModel):
        order_id: str
        reason: str
        quantity: float
        detail: str | None = None

    class RequiredDetailWithoutQuantity(BaseModel):
        order_id: str
        reason: str
        detail: str | None = None

    _write(repo, SCHEMA, WithOptional.model_json_schema(mode="serialization"))
    _commit(repo, "OrderRejected v1: optional detail")
    first = _git(repo, "rev-list", "--max-parents=0", "HEAD").strip()

    messages = _changed(repo, RequiredDetailWithoutQuantity)

    assert len(messages) == 1
    assert "consumer billing: field 'quantity'" in messages[0]
    assert first[:12] not in messages[0]  # reported once, against the newest version it breaks


def test_a_breaking_change_published_as_a_new_major_side_by_side_passes(repo: Path) -> None:
    class OrderRejectedV2(BaseModel):
        order_id: str
        rejection_reason: str

    assert _changed(repo, OrderRejectedV2, SCHEMA.with_name("OrderRejected.v2.json")) == []


def test_a_shallow_clone_is_refused_with_the_reason(repo: Path, tmp_path: Path) -> None:
    class WithOptional(BaseModel):
        order_id: str
        reason: str
        quantity: float
        detail: str | None = None

    _write(repo, SCHEMA, WithOptional.model_json_schema(mode="serialization"))
    _commit(repo, "second version")
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow)],
        check=True,
        capture_output=True,
    )

    with pytest.raises(ShallowClone, match="clone is shallow"):
        check_history(shallow, contracts_in(shallow), READERS)


def test_schema_files_are_found_by_producer_type_and_major(repo: Path) -> None:
    _write(repo, SCHEMA.with_name("OrderRejected.v2.json"), {"type": "object"})

    found = [(c.producer, c.detail_type, c.major) for c in contracts_in(repo)]

    assert found == [("shop", "OrderRejected", 1), ("shop", "OrderRejected", 2)]
    assert json.loads((repo / SCHEMA).read_text())["title"] == "OrderRejected"


def test_the_gate_command_fails_on_a_breaking_change_and_says_why_it_skips_a_shallow_clone(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from saas_devtools.contracts import cli

    class Narrowed(BaseModel):
        order_id: str
        reason: str
        quantity: int

    assert cli.main(["gate", "--workspace", str(repo)]) == 0
    _write(repo, SCHEMA, Narrowed.model_json_schema(mode="serialization"))
    assert cli.main(["gate", "--workspace", str(repo)]) == 1
    assert "field 'quantity': writer sends number" in capsys.readouterr().err
    _commit(repo, "narrow quantity")
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow)],
        check=True,
        capture_output=True,
    )

    status = cli.main(["gate", "--workspace", str(shallow)])

    assert status == 2
    assert "compatibility gate skipped: this clone is shallow" in capsys.readouterr().err
