"""The Lambda authorizer (TOKEN or REQUEST type) in front of every service's API.

Kept light at import (cold start on every API's first request): no Powertools event handler,
no idempotency, no Tracer, no Cognito admin code, no boto3. It is built once per process from
the service's Container (which imports only the adapters it uses), so the JWKS, the tenant
standing and the route permission caches live across invocations.
"""

from __future__ import annotations

import gc

# No cyclic collection while init imports and builds (about 25 ms of cold start); what it
# builds is frozen and collecting resumes at the end of this module.
gc.disable()

from typing import Any

from tenant_context.metering import metered
from tenant_service.app.authorize import Authorizer, Unauthorized
from tenant_service.container import container
from tenant_service.entrypoints.observability import logger, metrics

# Built at cold start (settings checked there); tests put their own in its place.
AUTHORIZER: Authorizer = container().authorizer


def _token(event: dict[str, Any]) -> str | None:
    if event.get("type") == "TOKEN":
        token = event.get("authorizationToken")
        return token if isinstance(token, str) else None
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    token = headers.get("authorization")
    return token if isinstance(token, str) else None


@metrics.log_metrics
@metered(metrics)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        answer: dict[str, Any] = AUTHORIZER.authorize(
            _token(event), str(event.get("methodArn", ""))
        )
    except Unauthorized as exc:
        # API Gateway turns exactly this message into a 401; the reason stays in our logs.
        logger.info("token refused", extra={"reason": str(exc)})
        raise Exception("Unauthorized") from None
    logger.info(
        "authorized",
        extra={"role": answer["context"]["role"], "tenant_id": answer["context"]["tenant_id"]},
    )
    return answer


# Init is done: its objects live as long as the environment, so collections skip them.
gc.freeze()
gc.enable()
