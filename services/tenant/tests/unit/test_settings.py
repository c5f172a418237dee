"""The service's settings: what the environment gives, and the defaults derived from it."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from tenant_service.container import Settings


def test_in_aws_tokens_come_from_the_regional_pool_and_cognito_sends_invitations() -> None:
    settings = Settings.from_environ(
        {
            "AWS_REGION": "eu-west-1",
            "USER_POOL_ID": "eu-west-1_abc",
            "USER_POOL_CLIENT_IDS": "web, mobile ,",
        }
    )

    assert settings.issuer == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"
    assert settings.jwks_url == (
        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc/.well-known/jwks.json"
    )
    assert settings.audiences == ["web", "mobile"]
    assert settings.invitations == "cognito"


def test_locally_keys_come_from_the_endpoint_and_invitations_go_to_files() -> None:
    settings = Settings.from_environ(
        {"AWS_ENDPOINT_URL": "http://127.0.0.1:5000/", "USER_POOL_ID": "us-east-1_x"}
    )

    # The issuer is what Cognito (and moto) write in the token, whatever the endpoint
    assert settings.issuer == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x"
    assert settings.jwks_url == "http://127.0.0.1:5000/us-east-1_x/.well-known/jwks.json"
    assert settings.invitations == "file"
    assert settings.invitation_outbox_dir == Path(".local/outbox")


@pytest.mark.parametrize(
    "environ",
    [
        {"BACKEND": "sqlite"},
        {"TENANT_CACHE_TTL_SECONDS": "3600"},
        {"TOKEN_LEEWAY_SECONDS": "-1"},
        {"INVITATIONS": "pigeon"},
    ],
)
def test_a_bad_setting_fails_at_cold_start(environ: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        Settings.from_environ(environ)
