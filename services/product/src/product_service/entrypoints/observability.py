"""Powertools' Logger, Metrics and Tracer of every handler of the service, with no names in
code: the service name and the metrics namespace come from the template's environment,
POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE (namespace `saas` everywhere)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

from tenant_context import traced_modules

logger = Logger()
metrics = Metrics()
tracer = Tracer(patch_modules=traced_modules())
