import pytest

from tenant_context import MissingTenantId, enrich_logger, enrich_metrics, traced_modules


class RecordingLogger:
    def __init__(self):
        self.keys = {}

    def append_keys(self, **keys):
        self.keys.update(keys)


class RecordingMetrics:
    def __init__(self):
        self.metadata = {}

    def add_metadata(self, key, value):
        self.metadata[key] = value


def test_log_lines_carry_tenant_and_correlation():
    logger = RecordingLogger()

    enrich_logger(logger, tenant_id="t-1", correlation_id="c-1")

    assert logger.keys == {"tenant_id": "t-1", "correlation_id": "c-1"}


def test_metrics_carry_the_tenant_as_metadata():
    metrics = RecordingMetrics()

    enrich_metrics(metrics, tenant_id="t-1")

    assert metrics.metadata == {"tenant_id": "t-1"}


def test_enrichment_refuses_a_blank_tenant():
    with pytest.raises(MissingTenantId):
        enrich_logger(RecordingLogger(), tenant_id=" ", correlation_id=None)
    with pytest.raises(MissingTenantId):
        enrich_metrics(RecordingMetrics(), tenant_id="")


def test_works_with_powertools_logger(capsys):
    from aws_lambda_powertools import Logger

    logger = Logger(service="test")
    enrich_logger(logger, tenant_id="t-7", correlation_id="c-7")
    logger.info("hello")

    line = capsys.readouterr().out
    assert '"tenant_id":"t-7"' in line
    assert '"correlation_id":"c-7"' in line


@pytest.mark.parametrize(
    ("environ", "modules"),
    [
        ({}, ("botocore",)),
        ({"BACKEND": "dynamodb"}, ("botocore",)),
        ({"BACKEND": "memory"}, ("botocore",)),
        ({"BACKEND": "fauna"}, ("botocore", "httpx")),
        ({"BACKEND": " Fauna "}, ("botocore", "httpx")),
    ],
)
def test_tracing_patches_the_aws_sdk_and_httpx_only_for_fauna(environ, modules):
    assert traced_modules(environ) == modules


def test_traced_modules_reads_the_process_environment(monkeypatch):
    monkeypatch.setenv("BACKEND", "fauna")
    assert traced_modules() == ("botocore", "httpx")


def test_a_tracer_with_these_modules_does_not_import_httpx():
    # Given a fresh interpreter, as Lambda's, with tracing on and the DynamoDB backend
    import os
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from aws_lambda_powertools import Tracer\n"
        "from tenant_context import traced_modules\n"
        "Tracer(service='probe', patch_modules=traced_modules())\n"
        "print('httpx' in sys.modules, 'botocore' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "AWS_XRAY"))}
    env.update(BACKEND="dynamodb", LAMBDA_TASK_ROOT=os.getcwd(), AWS_REGION="us-east-1")
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    # Then the AWS SDK is patched (imported) and httpx, there for the Fauna driver, is not
    assert out.stdout.split() == ["False", "True"]
