"""The provisioner's Logger, Metrics and Tracer. No names in code: the service name and the metrics
namespace come from the function's environment, POWERTOOLS_SERVICE_NAME and
POWERTOOLS_METRICS_NAMESPACE, which template.yaml sets for every function."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

from tenant_context import traced_modules

logger = Logger()
metrics = Metrics()
tracer = Tracer(patch_modules=traced_modules())
