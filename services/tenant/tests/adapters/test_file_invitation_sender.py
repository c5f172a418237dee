"""Local invitations stay inside their directory, one file per username, whatever it holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tenant_service.adapters.file_invitation_sender import FileInvitationSender, file_name
from tenant_service.domain.users import Invitation


def _invitation(username: str) -> Invitation:
    return Invitation(to=username, username=username, temporary_password="Temp-1", tenant_id="t1")


@pytest.mark.parametrize(
    "username",
    ["boss@acme.test", "a/b@x.test", "../../escape@x.test", "..", "n\x96@\u00e2\U0005f1e5.R/%"],
)
def test_every_username_lands_in_the_outbox_and_reads_back(tmp_path: Path, username: str) -> None:
    outbox = tmp_path / "outbox"

    FileInvitationSender(outbox).send(_invitation(username))

    (written,) = list(tmp_path.rglob("*.json"))
    assert written.parent == outbox
    assert json.loads(written.read_text())["username"] == username


def test_usernames_that_read_alike_get_files_of_their_own() -> None:
    assert file_name("a/b@x.test") != file_name("a_b@x.test")
    assert file_name("boss@acme.test").startswith("boss@acme.test-")
