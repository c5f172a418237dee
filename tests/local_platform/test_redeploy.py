"""Deploying one service into the running platform (`make deploy SERVICE=x STAGE=local`): under a
steady stream of requests and queued messages, the shop fixture is redeployed with new code and
a route removed; nothing fails, nothing waits past the bound, nothing queued is lost."""

from __future__ import annotations

import json
import shutil
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from saas_local import cli
from saas_local.redeploy import DeployRefused, deploy_to_running_platform
from saas_local.testing import start_platform
from saas_local.workers import FunctionConfig, FunctionRuntime

FIXTURES = Path(__file__).parent / "fixture_services"
ROOT = Path(__file__).resolve().parents[2]

# No request through the gateway may take longer than this while the service is replaced
# (a new worker's cold start plus the swap; the handler itself answers in milliseconds).
REQUEST_BOUND_SECONDS = 5.0


def _get(url: str) -> tuple[int, dict[str, object], float]:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            status, body = answer.status, answer.read()
    except urllib.error.HTTPError as error:
        with error:
            status, body = error.code, error.read()
    return status, json.loads(body or b"{}"), time.monotonic() - started


def test_a_service_is_replaced_under_traffic_without_failures_or_lost_messages(tmp_path):
    shop = tmp_path / "shop"
    shutil.copytree(FIXTURES / "shop", shop)
    templates = [FIXTURES / "gatekeeper/template.yaml", shop / "template.yaml"]
    state = tmp_path / "platform.json"
    with start_platform(
        ROOT, templates, region_map={"us": "us-east-1"}, write_state=True, state_file=state
    ) as platform:
        base = platform.api_url.rstrip("/")
        status, first, _ = _get(base + "/public")
        assert status == 200
        assert "version" not in first
        assert _get(base + "/broken")[0] == 401  # declared (behind the authorizer) before
        table = platform.client("dynamodb")
        table_name = str(first["environment"]["TABLE_NAME"])  # type: ignore[index]
        table.put_item(TableName=table_name, Item={"pk": {"S": "OUT#before"}})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "Item" not in table.get_item(
            TableName=table_name, Key={"pk": {"S": "SEEN#OUT#before"}}
        ):
            time.sleep(0.1)
        assert "Item" in table.get_item(TableName=table_name, Key={"pk": {"S": "SEEN#OUT#before"}})
        queue_url = str(first["environment"]["QUEUE_URL"])  # type: ignore[index]
        sqs = platform.client("sqs")

        answers: list[tuple[int, dict[str, object], float]] = []
        sent: list[str] = []
        stop = threading.Event()

        def traffic() -> None:
            index = 0
            while not stop.is_set():
                answers.append(_get(base + "/public"))
                sqs.send_message(QueueUrl=queue_url, MessageBody=f"m{index}")
                sent.append(f"m{index}")
                index += 1
                time.sleep(0.02)

        thread = threading.Thread(target=traffic)
        thread.start()
        try:
            time.sleep(1.0)
            # The new version: new code (a new optional field in the answer), /broken removed.
            api = shop / "src/shop_fixture/api.py"
            api.write_text(
                api.read_text().replace('"pid": os.getpid(),', '"pid": os.getpid(), "version": 2,')
            )
            template = shop / "template.yaml"
            source = template.read_text()
            removed = source.replace(
                "        Broken:\n          Type: Api\n"
                "          Properties: {RestApiId: !Ref ShopApi, Path: /broken, Method: GET}\n",
                "",
            )
            assert removed != source
            # ... and the table's stream no longer feeds StreamFunction.
            cut = removed.index("      Events:\n        Outbox:")
            removed = removed[:cut] + removed[removed.index("\nOutputs:") :]
            template.write_text(removed)
            result = deploy_to_running_platform(state, "shop")
            time.sleep(1.0)
        finally:
            stop.set()
            thread.join()

        assert result["stacks"] == ["saas-shop"]
        assert "at once" in result["rollout"]
        assert answers, "the traffic thread made no request"
        assert [a for a in answers if a[0] != 200] == []
        slowest = max(seconds for _, _, seconds in answers)
        assert slowest < REQUEST_BOUND_SECONDS, f"a request took {slowest:.2f} s"
        assert "version" not in answers[0][1]
        assert answers[-1][1].get("version") == 2
        assert answers[0][1]["pid"] != answers[-1][1]["pid"]  # new worker processes

        # The removed route answers as a path the API never had (the platform's 404).
        assert _get(base + "/broken")[:2] == _get(base + "/nowhere")[:2]
        assert _get(base + "/broken")[:2] == (404, {"message": "Not Found"})

        def stored() -> set[str]:
            keys = [{"pk": {"S": f"OK#{name}"}} for name in sent]
            found: set[str] = set()
            for start in range(0, len(keys), 100):
                answer = table.batch_get_item(
                    RequestItems={table_name: {"Keys": keys[start : start + 100]}}
                )
                found |= {i["pk"]["S"][3:] for i in answer["Responses"][table_name]}
            return found

        deadline = time.monotonic() + 20
        while stored() != set(sent) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert set(sent) - stored() == set(), "queued messages lost in the redeploy"

        # The removed event source: its poller is gone, a new stream record reaches no one.
        pumps = [pump.name for pump in platform.platform.pumps]
        assert not [name for name in pumps if ":StreamFunction:" in name]
        assert [name for name in pumps if ":PoisonFunction:" in name]
        table.put_item(TableName=table_name, Item={"pk": {"S": "OUT#after"}})
        time.sleep(2.0)
        seen = table.get_item(TableName=table_name, Key={"pk": {"S": "SEEN#OUT#after"}})
        assert "Item" not in seen

        # A template that does not translate is refused with the reason; the version serves on.
        template.write_text(removed.replace("Type: AWS::Serverless::Function", "Type: [", 1))
        with pytest.raises(DeployRefused, match="update_stack failed"):
            deploy_to_running_platform(state, "shop")
        status, after, _ = _get(base + "/public")
        assert status == 200
        assert after["version"] == 2
        with pytest.raises(DeployRefused, match="no service 'nowhere'"):
            deploy_to_running_platform(state, "nowhere")
        template.write_text(removed)  # the command line, as `make deploy STAGE=local` runs it
        assert cli.main(["--state-file", str(state), "deploy", "--service", "shop"]) == 0
        print(f"redeploy {result['seconds']} s; slowest request {slowest:.2f} s")


def _slow_runtime(code: Path, answer: str) -> FunctionRuntime:
    code.mkdir()
    (code / "slow.py").write_text(
        "import time\n\n\ndef handler(event, context):\n"
        f"    time.sleep(event['sleep'])\n    return {answer!r}\n"
    )
    config = FunctionConfig(
        name="slow",
        arn="arn:aws:lambda:us-east-1:123456789012:function:slow",
        handler="slow.handler",
        region="us-east-1",
        environment={},
        timeout=30,
        memory_size=128,
        code_dir=code,
        aws_endpoint_url="http://127.0.0.1:1",
    )
    return FunctionRuntime(config, max_concurrency=2)


def test_a_retired_runtime_finishes_what_it_runs_and_hands_the_rest_to_its_successor(tmp_path):
    old = _slow_runtime(tmp_path / "old", "old")
    new = _slow_runtime(tmp_path / "new", "new")
    try:
        assert old.invoke({"sleep": 0}) == "old"  # a warm worker, idle
        in_flight: list[str] = []
        thread = threading.Thread(target=lambda: in_flight.append(old.invoke({"sleep": 1.0})))
        thread.start()
        time.sleep(0.3)  # the event runs on the old version
        old.retire(new)
        assert old.invoke({"sleep": 0}) == "new"  # what comes after the swap: the new version
        thread.join()
        assert in_flight == ["old"]  # drained, not cut
        assert old._all == []  # every old worker has exited
    finally:
        old.close()
        new.close()


def test_saas_local_deploy_without_a_running_platform_says_so(tmp_path, capsys):
    state = tmp_path / "platform.json"
    assert cli.main(["--state-file", str(state), "deploy", "--service", "order"]) == 1
    assert "no running local platform" in capsys.readouterr().err
    assert cli.main(["--state-file", str(state), "deploy"]) == 2
    state.write_text(json.dumps({"api_url": "http://127.0.0.1:1"}))
    with pytest.raises(DeployRefused, match="no control_url"):
        deploy_to_running_platform(state, "order")
