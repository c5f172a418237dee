"""Lambda faults (`lambda.crash`, `lambda.timeout`): the function runtime answers as Lambda does
(Runtime.ExitError "signal: killed", Sandbox.Timedout), replaces the environment, and the
gateway answers API Gateway's 502 or, past its integration timeout, 504; a crashed batch takes
the path of any function error (SQS: back after the visibility timeout; a stream: retried, then
the on-failure destination). Each test also checks the injector's counts."""

from __future__ import annotations

import json
import textwrap
import time

import pytest

from saas_local.faults import FaultInjector, FaultPlan
from saas_local.gateway import Gateway, GatewayRoute
from saas_local.workers import FunctionConfig, FunctionRuntime, InvocationError

from .conftest import FIXTURES, ROOT, stack_output


def _plan(kind: str, share: float = 1.0, function: str = "*", seed: int = 5) -> FaultPlan:
    return FaultPlan.from_json(
        {"seed": seed, "faults": [{"kind": kind, "share": share, "function": function}]}
    )


def _runtime(tmp_path, faults: FaultInjector, timeout: int = 2) -> FunctionRuntime:
    """A function that appends a line to a file when it starts and one when it is done."""
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    (code / "steps.py").write_text(
        textwrap.dedent(
            """
            import os, time

            def handler(event, context):
                with open(event["log"], "a") as log:
                    log.write(f"start {event['n']} {os.getpid()}\\n")
                time.sleep(event.get("work", 0))
                with open(event["log"], "a") as log:
                    log.write(f"done {event['n']}\\n")
                return event["n"]
            """
        )
    )
    config = FunctionConfig(
        name="saas-shop-StepsFunction-ABC123",
        arn="arn:aws:lambda:us-east-1:123456789012:function:saas-shop-StepsFunction-ABC123",
        handler="steps.handler",
        region="us-east-1",
        environment={},
        timeout=timeout,
        memory_size=128,
        code_dir=code,
        aws_endpoint_url="http://127.0.0.1:1",
    )
    return FunctionRuntime(config, max_concurrency=1, faults=faults)


def test_a_crash_is_runtime_exit_error_signal_killed_and_the_next_call_is_a_cold_start(tmp_path):
    # Given a function whose every invocation crashes (then none)
    faults = FaultInjector(_plan("lambda.crash", function="saas-shop-Steps*"))
    runtime = _runtime(tmp_path, faults)
    log = tmp_path / "steps.log"
    try:
        # When it is invoked
        with pytest.raises(InvocationError) as caught:
            runtime.invoke({"n": 1, "log": str(log)})
        # Then Lambda's error for an environment that died, worded as Lambda words it
        assert caught.value.error_type == "Runtime.ExitError"
        assert caught.value.error_message.startswith("RequestId: ")
        assert caught.value.error_message.endswith(
            "Error: Runtime exited with error: signal: killed"
        )
        assert faults.counts() == {"lambda.crash": 1}

        # And the environment is replaced: the next invocation starts a new one
        faults.replace(FaultPlan())
        assert runtime.invoke({"n": 2, "log": str(log)}) == 2
        assert runtime.cold_starts == 2
        pids = {line.split()[2] for line in log.read_text().splitlines() if line[:5] == "start"}
        assert len(pids) == 2
    finally:
        runtime.close()


def test_a_crash_hits_in_the_middle_of_the_work_at_a_delay_the_seed_repeats(tmp_path):
    # Given a handler that works 2 s and a crash plan (crashes come within 0.5 s)
    faults = FaultInjector(_plan("lambda.crash"))
    runtime = _runtime(tmp_path, faults, timeout=5)
    log = tmp_path / "steps.log"
    try:
        started = time.monotonic()
        with pytest.raises(InvocationError, match="signal: killed"):
            runtime.invoke({"n": 1, "log": str(log), "work": 2})
        # Then it died after the handler started and before it finished
        assert time.monotonic() - started < 2
        assert log.read_text().splitlines()[0].startswith("start 1")
        assert "done 1" not in log.read_text()
        assert faults.counts() == {"lambda.crash": 1}
    finally:
        runtime.close()
    # And the delay is drawn from the plan's seed: the same seed, the same delays
    assert _delays(seed=5) == _delays(seed=5)
    assert _delays(seed=5) != _delays(seed=6)


def _delays(seed: int) -> list[object]:
    config = FunctionConfig("f", "arn", "h", "us-east-1", {}, 3, 128, None, "http://127.0.0.1:1")
    runtime = FunctionRuntime(config, faults=FaultInjector(_plan("lambda.crash", seed=seed)))
    return [runtime._injected_fault() for _ in range(5)]


def test_an_unmatched_function_is_never_hit(tmp_path):
    faults = FaultInjector(_plan("lambda.crash", function="saas-order-*"))
    runtime = _runtime(tmp_path, faults)
    try:
        assert runtime.invoke({"n": 1, "log": str(tmp_path / "steps.log")}) == 1
        assert faults.counts() == {}
    finally:
        runtime.close()


def test_a_timeout_is_sandbox_timedout_after_the_functions_timeout(tmp_path):
    # Given a function with Timeout 1 s whose invocations run past it
    faults = FaultInjector(_plan("lambda.timeout"))
    runtime = _runtime(tmp_path, faults, timeout=1)
    log = tmp_path / "steps.log"
    try:
        started = time.monotonic()
        with pytest.raises(InvocationError) as caught:
            runtime.invoke({"n": 1, "log": str(log)})
        elapsed = time.monotonic() - started
        # Then Lambda stops it at its timeout and answers Sandbox.Timedout
        assert caught.value.error_type == "Sandbox.Timedout"
        assert caught.value.error_message.endswith("Task timed out after 1.00 seconds")
        assert 1.0 <= elapsed < 10
        assert faults.counts() == {"lambda.timeout": 1}
        # the handler's work was done, its answer never came; the environment is replaced
        faults.replace(FaultPlan())
        assert runtime.invoke({"n": 2, "log": str(log)}) == 2
        assert runtime.cold_starts == 2
    finally:
        runtime.close()


def _route(invoke, integration_timeout: float = 29.0) -> Gateway:
    route = GatewayRoute(
        method="GET",
        resource="/slow",
        invoke=invoke,
        api_id="api",
        stage="test",
        region="us-east-1",
        integration_timeout=integration_timeout,
    )
    return Gateway([route])


def test_the_gateway_answers_502_when_the_function_fails_first():
    def crashed(event):
        raise InvocationError("Runtime.ExitError", "RequestId: x Error: signal: killed")

    response = _route(crashed).handle("GET", "/slow", [], b"")

    assert response.status == 502
    assert json.loads(response.body) == {"message": "Internal server error"}
    assert ("x-amzn-ErrorType", "InternalServerErrorException") in response.headers


def test_the_gateway_answers_504_when_its_integration_timeout_comes_first():
    # Given a function that runs longer than the integration waits (29 s in AWS; 0.3 s here)
    def slow(event):
        time.sleep(1.0)
        return {"statusCode": 200, "body": "late"}

    started = time.monotonic()
    response = _route(slow, integration_timeout=0.3).handle("GET", "/slow", [], b"")

    assert response.status == 504
    assert json.loads(response.body) == {"message": "Endpoint request timed out"}
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize(
    ("function_timeout", "integration_timeout", "status", "message"),
    [
        (1, 2.5, 502, "Internal server error"),  # Lambda's Timeout comes first (tenant, product)
        (2, 1.0, 504, "Endpoint request timed out"),  # the integration's comes first (order: 29)
    ],
)
def test_an_injected_timeout_is_a_502_or_a_504_whichever_timeout_comes_first(
    tmp_path, function_timeout, integration_timeout, status, message
):
    # Given a function whose invocations run past its Timeout, behind a gateway route
    faults = FaultInjector(_plan("lambda.timeout"))
    runtime = _runtime(tmp_path, faults, timeout=function_timeout)
    log = str(tmp_path / "steps.log")
    try:
        gateway = _route(lambda event: runtime.invoke({"n": 1, "log": log}), integration_timeout)
        # When it is called through the gateway
        response = gateway.handle("GET", "/slow", [], b"")
        # Then the caller gets what API Gateway answers when that timeout comes first
        assert (response.status, json.loads(response.body)) == (status, {"message": message})
        assert faults.counts() == {"lambda.timeout": 1}
    finally:
        runtime.close()


def _shop_templates():
    return [FIXTURES / "gatekeeper/template.yaml", FIXTURES / "shop/template.yaml"]


@pytest.fixture(scope="module")
def faulty_shop():
    from saas_local.testing import start_platform

    with start_platform(ROOT, _shop_templates(), region_map={"us": "us-east-1"}) as platform:
        yield platform


def _function_name(platform, logical_id: str) -> str:
    return next(
        runtime.config.name
        for key, runtime in platform.platform.functions.items()
        if key[2] == logical_id
    )


def test_through_the_platform_an_api_crash_is_502_and_a_timeout_of_a_short_function_too(
    faulty_shop,
):
    platform = faulty_shop
    echo = _function_name(platform, "EchoFunction")
    try:
        # Given every invocation of the API's function crashes
        platform.platform.set_faults(_plan("lambda.crash", function=echo))
        platform.platform.faults.reset_counts()
        response = platform.api("GET", "/public")
        # Then the caller gets API Gateway's 502
        assert (response.status, response.json()) == (502, {"message": "Internal server error"})
        assert platform.platform.faults.counts() == {"lambda.crash": 1}

        # Given its invocations run past its Timeout (5 s, under the 29 s integration timeout)
        platform.platform.set_faults(_plan("lambda.timeout", function=echo))
        platform.platform.faults.reset_counts()
        response = platform.api("GET", "/public")
        assert (response.status, response.json()) == (502, {"message": "Internal server error"})
        assert platform.platform.faults.counts() == {"lambda.timeout": 1}

        # And once the faults stop, it answers again from a new environment
        platform.platform.set_faults(FaultPlan())
        assert platform.api("GET", "/public").status == 200
    finally:
        platform.platform.set_faults(FaultPlan())


def test_through_the_platform_a_crashed_authorizer_is_a_500_and_never_lets_the_request_in(
    faulty_shop,
):
    # Given every invocation of the API's authorizer crashes
    platform = faulty_shop
    authorizer = _function_name(platform, "AuthorizerFunction")
    try:
        platform.platform.set_faults(_plan("lambda.crash", function=authorizer))
        platform.platform.faults.reset_counts()
        token = f"allow:tenant-{time.monotonic_ns()}"  # a token no answer is cached for
        response = platform.api("GET", "/items/1", headers={"Authorization": f"Bearer {token}"})
        # Then API Gateway answers 500 (AuthorizerConfigurationException), the handler never runs
        assert (response.status, response.json()) == (500, {"message": None})
        assert response.headers["x-amzn-ErrorType"] == "AuthorizerConfigurationException"
        assert platform.platform.faults.counts() == {"lambda.crash": 1}
        platform.platform.set_faults(FaultPlan())
        again = platform.api("GET", "/items/1", headers={"Authorization": f"Bearer {token}"})
        assert again.status == 200
    finally:
        platform.platform.set_faults(FaultPlan())


def test_through_the_platform_a_crashed_sqs_batch_comes_back_after_the_visibility_timeout(
    faulty_shop,
):
    # Given the poison queue's consumer crashes on its first invocation only (visibility 1 s)
    platform = faulty_shop
    poison = _function_name(platform, "PoisonFunction")
    runtime = next(r for k, r in platform.platform.functions.items() if k[2] == "PoisonFunction")
    sqs = platform.client("sqs")
    url = _physical(platform, "PoisonQueue")
    table = platform.client("dynamodb")
    table_name = _physical(platform, "ShopTable")
    try:
        platform.platform.set_faults(_plan("lambda.crash", function=poison))
        platform.platform.faults.reset_counts()
        sqs.send_message(QueueUrl=url, MessageBody="crash-once")
        platform.wait_until(lambda: platform.platform.faults.counts().get("lambda.crash"), 60)
        platform.platform.set_faults(FaultPlan())

        # Then the message comes back after the visibility timeout, to a new environment,
        # which processes it: the queue is empty, nothing reached the dead-letter queue
        def settled():
            attributes = sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )["Attributes"]
            return runtime.cold_starts >= 2 and set(attributes.values()) == {"0"}

        platform.wait_until(settled, 60)
        item = table.get_item(TableName=table_name, Key={"pk": {"S": "OK#crash-once"}})
        assert "Item" in item
        dead = stack_output(platform, "saas-shop", "PoisonDeadLetterQueueUrl")
        assert "Messages" not in sqs.receive_message(QueueUrl=dead, WaitTimeSeconds=0)
        assert platform.platform.faults.counts() == {"lambda.crash": 1}
        assert runtime.cold_starts >= 2  # the crashed environment was replaced
    finally:
        platform.platform.set_faults(FaultPlan())


def test_through_the_platform_a_crashed_stream_batch_is_retried_then_sent_to_the_destination(
    faulty_shop,
):
    # Given the stream consumer (MaximumRetryAttempts 1) crashes on every invocation
    platform = faulty_shop
    stream_function = _function_name(platform, "StreamFunction")
    sqs = platform.client("sqs")
    failures = stack_output(platform, "saas-shop", "StreamFailureQueueUrl")
    try:
        platform.platform.set_faults(_plan("lambda.crash", function=stream_function))
        platform.platform.faults.reset_counts()
        platform.client("dynamodb").put_item(
            TableName=_physical(platform, "ShopTable"), Item={"pk": {"S": "OUT#crashing"}}
        )

        # Then after the first try and one retry, the batch's position reaches the destination
        def failure_record():
            messages = sqs.receive_message(QueueUrl=failures, WaitTimeSeconds=1).get("Messages", [])
            return [json.loads(m["Body"]) for m in messages]

        [record] = platform.wait_until(failure_record, 60)
        assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
        assert record["requestContext"]["approximateInvokeCount"] == 2
        assert record["responseContext"]["functionError"] == "Runtime.ExitError"
        assert platform.platform.faults.counts() == {"lambda.crash": 2}
    finally:
        platform.platform.set_faults(FaultPlan())


def _physical(platform, logical_id: str) -> str:
    resources = platform.client("cloudformation").describe_stack_resources(StackName="saas-shop")
    return next(
        r["PhysicalResourceId"]
        for r in resources["StackResources"]
        if r["LogicalResourceId"] == logical_id
    )


def test_a_stream_batch_that_crashes_is_bisected_then_retried_then_sent_to_the_destination():
    # Given a stream consumer (BisectBatchOnFunctionError, MaximumRetryAttempts 1) whose
    # environment dies whenever its batch holds record 5
    from saas_local.pumps import StreamPump

    from .test_event_sources import STREAM_ARN, _Sqs, _stream_record

    batches: list[list[str]] = []

    def invoke(event):
        sequences = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
        batches.append(sequences)
        if "5" in sequences:
            raise InvocationError("Runtime.ExitError", "Error: Runtime exited: signal: killed")
        return {"batchItemFailures": []}

    sqs = _Sqs()
    pump = StreamPump(
        name="bisect",
        clients=lambda service: sqs,
        stream_arn=STREAM_ARN,
        invoke=invoke,
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:f",
        batch_size=10,
        report_batch_item_failures=True,
        maximum_retry_attempts=1,
        bisect_batch_on_function_error=True,
        on_failure_arn="arn:aws:sqs:us-east-1:123456789012:failures",
        retry_backoff=0,
    )
    buffer = [_stream_record(i, f"OUT#{i}") for i in range(1, 11)]
    # When the shard is worked through
    attempts = 0
    for _ in range(50):
        if not buffer:
            break
        attempts = pump._deliver("shard-1", buffer, attempts)
    # Then the crashing batch is split in two until record 5 is alone, retried once, and its
    # position goes to the destination; every other record is delivered, in order
    assert [len(b) for b in batches[:3]] == [10, 5, 3]
    assert batches.count(["5"]) == 2
    [(_, record)] = sqs.sent
    assert record["responseContext"]["functionError"] == "Runtime.ExitError"
    info = record["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"]) == ("5", "5")
    delivered = [s for b in batches if "5" not in b for s in b]
    assert delivered == [str(i) for i in range(1, 11) if i != 5]
    # and once past the bisected batch, full batches again
    assert pump._splits == {}


def test_bisect_batch_on_function_error_is_read_from_the_event_source_mapping():
    from saas_local import templates

    tally = templates.load_template(FIXTURES / "tally/template.yaml")
    sources = templates.event_sources(templates.translate(tally, "us-east-1"))
    stream = next(s for s in sources if s.kind == "dynamodb")
    queues = [s for s in sources if s.kind == "sqs"]

    assert stream.bisect_batch_on_function_error is True
    assert stream.maximum_retry_attempts == 2
    assert queues
    assert not any(s.bisect_batch_on_function_error for s in queues)
