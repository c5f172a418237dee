"""Powertools' Logger, Metrics and Tracer for every handler of the service, with no names in code:
the service name and metrics namespace come from the template's POWERTOOLS_SERVICE_NAME and
POWERTOOLS_METRICS_NAMESPACE (docs/conventions.md, "Observability").

The Tracer is built on first call of `tracer()`: building it loads the X-Ray SDK (about half a
second), which the authorizer, in front of every API and tracing nothing, never pays for.
"""

from __future__ import annotations

from functools import cache

from aws_lambda_powertools import Logger, Metrics, Tracer

from tenant_context import traced_modules

logger = Logger()
metrics = Metrics()


@cache
def tracer() -> Tracer:
    return Tracer(patch_modules=traced_modules())
