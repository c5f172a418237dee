"""The handlers' Logger, Metrics and Tracer, named by the function's environment only: the
template sets POWERTOOLS_SERVICE_NAME (order) and POWERTOOLS_METRICS_NAMESPACE (saas) for every
function, so no name lives in code to drift from what dashboards read."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

from tenant_context import traced_modules

logger = Logger()
metrics = Metrics()
tracer = Tracer(patch_modules=traced_modules())
