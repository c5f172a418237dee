"""Fault plans: how they are written, refused, repeated by their seed, and switched on a running
platform (the control endpoint, `saas-local faults`, moto's process). Each fault kind's own
behaviour is tested beside the part of the platform that injects it."""

from __future__ import annotations

import json
import subprocess
import sys
from urllib import error, request

import pytest

from saas_local.faults import KINDS, FaultInjector, FaultPlan, FaultPlanError

from .conftest import ROOT


def test_the_short_form_json_and_a_file_give_the_same_plan(tmp_path):
    short = FaultPlan.parse("dynamodb.throttle=0.1, eventbridge.entry_failure=0.25", seed=7)
    document = {
        "seed": 7,
        "faults": [
            {"kind": "dynamodb.throttle", "share": 0.1},
            {"kind": "eventbridge.entry_failure", "share": 0.25},
        ],
    }
    path = tmp_path / "faults.yaml"
    path.write_text(json.dumps(document))

    assert FaultPlan.parse(json.dumps(document)) == short
    assert FaultPlan.parse(str(path)) == short
    assert FaultPlan.from_json(short.to_json()) == short
    assert not FaultPlan.parse("")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("dynamodb.melt=0.1", "unknown kind 'dynamodb.melt'"),
        ("dynamodb.throttle", "the short form is kind=share"),
        ("dynamodb.throttle=2", "share is a number from 0 to 1"),
        ("dynamodb.throttle=lots", "share is a number from 0 to 1"),
        ('{"faults": [{"kind": "jwks.unreachable", "share": 1, "table": "x"}]}', "takes no"),
        ('{"faults": [{"kind": "dynamodb.throttle", "share": 1, "bus": "x"}]}', "table, operation"),
        ('{"seed": "x"}', "seed is an integer"),
        ('{"rules": []}', "takes seed and faults"),
        ("{not json", "not valid JSON"),
        ("missing.yaml", "no fault plan file"),
    ],
)
def test_a_plan_that_cannot_be_read_is_refused_saying_why(text, says):
    with pytest.raises(FaultPlanError, match=None) as caught:
        FaultPlan.parse(text)
    assert says in str(caught.value)


def test_the_same_seed_hits_the_same_calls_and_another_seed_other_calls():
    def hits(seed: int) -> list[int]:
        injector = FaultInjector(FaultPlan.parse("dynamodb.throttle=0.3", seed))
        return [
            n for n in range(200) if injector.fault("dynamodb.throttle", table="t", operation="o")
        ]

    assert hits(1) == hits(1)
    assert hits(1) != hits(2)
    assert 30 < len(hits(1)) < 90  # about 30 % of 200
    injector = FaultInjector(FaultPlan.parse("dynamodb.throttle=0.3", 1))
    for _ in range(200):
        injector.fault("dynamodb.throttle", table="t", operation="o")
    assert injector.counts() == {"dynamodb.throttle": len(hits(1))}


def test_selectors_are_glob_patterns_and_an_unmatched_call_is_never_hit():
    plan = FaultPlan.from_json(
        {"faults": [{"kind": "dynamodb.throttle", "share": 1, "table": "saas-order-*"}]}
    )
    injector = FaultInjector(plan)

    assert injector.fault("dynamodb.throttle", table="saas-order-orders", operation="PutItem")
    assert injector.fault("dynamodb.throttle", table="saas-product", operation="PutItem") is None
    assert injector.fault("eventbridge.throttle", bus="saas") is None
    assert injector.plan.rules[0].error_code == KINDS["dynamodb.throttle"][1]


def _control(url: str, method: str, body: object = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    call = request.Request(url + "/faults", data=data, method=method)
    try:
        with request.urlopen(call, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_a_running_platform_takes_a_new_plan_everywhere_and_refuses_a_bad_one(
    shop_platform, tmp_path
):
    platform = shop_platform.platform
    url = platform.info["control_url"]
    try:
        status, answer = _control(url, "POST", {"seed": 3, "faults": [{"kind": "x", "share": 1}]})
        assert (status, "unknown kind 'x'" in answer["message"]) == (400, True)

        plan = {"seed": 3, "faults": [{"kind": "sts.error", "share": 0.5}]}
        status, answer = _control(url, "POST", plan)
        assert status == 200
        assert answer["plan"] == plan
        # moto's process holds the same plan (the AWS APIs' faults are decided there)
        from saas_local.faults import tell_moto

        assert tell_moto(platform.aws_endpoint_url)["plan"] == plan
        assert platform.faults.plan == FaultPlan.from_json(plan)

        # saas-local faults, as `make faults` runs it, reads the same through the state file
        state = tmp_path / "platform.json"
        state.write_text(json.dumps({"control_url": url}))
        command = [sys.executable, "-m", "saas_local.cli", "--root", str(ROOT), "faults"]
        shown = subprocess.run(
            [*command, "--state-file", str(state)],
            capture_output=True,
            text=True,
            check=True,
            env={"PATH": "/usr/bin:/bin"},
        )
        assert json.loads(shown.stdout)["plan"] == plan
        off = subprocess.run(
            [*command, "--state-file", str(state), "--faults", ""],
            capture_output=True,
            text=True,
            check=True,
            env={"PATH": "/usr/bin:/bin"},
        )
        assert json.loads(off.stdout)["plan"] == {"seed": 0, "faults": []}
        assert not tell_moto(platform.aws_endpoint_url)["plan"]["faults"]
    finally:
        platform.set_faults(FaultPlan())
