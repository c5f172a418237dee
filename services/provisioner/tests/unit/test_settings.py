"""Configuration enters once, through Settings, from the function's environment."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from provisioner.container import Settings


def test_region_map_and_deployment_roles_are_read_from_json():
    settings = Settings.from_environ(
        {
            "REGION_MAP": '{"us": "us-east-1", "eu": "eu-central-1", "global": "us-west-2"}',
            "DEPLOYMENT_ROLES": (
                '{"eu": {"role_arn": "arn:aws:iam::210987654321:role/deployer",'
                ' "external_id": "ext-eu-1"}}'
            ),
            "MAX_ATTEMPTS": "5",
        }
    )

    assert settings.region_map["eu"] == "eu-central-1"
    assert settings.deployment_roles["eu"].role_arn == "arn:aws:iam::210987654321:role/deployer"
    assert settings.deployment_roles["eu"].external_id == "ext-eu-1"
    assert settings.max_attempts == 5


def test_the_defaults_follow_the_agreed_region_map():
    settings = Settings.from_environ({})

    assert settings.region_map == {"us": "us-east-1", "eu": "eu-west-1", "global": "us-east-1"}
    assert settings.backend == "dynamodb"


@pytest.mark.parametrize(
    ("name", "value"),
    [("MAX_ATTEMPTS", "0"), ("BACKEND", "postgres"), ("DEPLOYMENT_ROLES", '{"eu": {}}')],
)
def test_a_bad_setting_fails_at_cold_start_naming_it(name, value):
    with pytest.raises(ValidationError, match=name):
        Settings.from_environ({name: value})
