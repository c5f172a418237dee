"""Logger, Metrics and Tracer, named by the template alone: POWERTOOLS_SERVICE_NAME and
POWERTOOLS_METRICS_NAMESPACE (docs/conventions.md, "Observability")."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

from tenant_context import traced_modules

logger = Logger()
metrics = Metrics()
tracer = Tracer(patch_modules=traced_modules())
