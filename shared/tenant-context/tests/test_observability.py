import pytest

from tenant_context import MissingTenantId, enrich_logger, enrich_metrics


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
