"""Local invitations: what Cognito would email, written to `<dir>/<username>-<hash>.json`."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from tenant_service.domain.users import Invitation


class FileInvitationSender:
    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def send(self, invitation: Invitation) -> None:
        self._directory.mkdir(parents=True, exist_ok=True)
        target = self._directory / file_name(invitation.username)
        body = {
            "to": invitation.to,
            "username": invitation.username,
            "temporary_password": invitation.temporary_password,
            "tenant_id": invitation.tenant_id,
        }
        partial = target.with_suffix(".json.tmp")
        partial.write_text(json.dumps(body, indent=2))
        partial.replace(target)  # a reader never sees half a file


def file_name(username: str) -> str:
    """A name inside the directory whatever the username holds (an email may contain `/`, and
    `../` must not leave the outbox); the hash keeps two usernames that read alike apart."""
    readable = re.sub(r"[^A-Za-z0-9@._+-]", "_", username)[:80].lstrip(".") or "user"
    digest = hashlib.sha256(username.encode()).hexdigest()[:12]
    return f"{readable}-{digest}.json"
