"""Cognito ID token verification with PyJWT: RS256 only, the pool's JWKS, iss, aud, token_use.

The key set is cached; a token whose `kid` is unknown refetches the set at most once per
`refetch_cooldown` seconds (keys rotate rarely; a flood of made-up kids must not hammer the pool).
A failed fetch is retried after `retry_after_failure` seconds instead, so a blip at cold start
does not refuse every token for a whole cooldown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import jwt
from jwt import PyJWKSet

from tenant_service.ports.jwks_fetcher import JwksFetcher
from tenant_service.ports.token_verifier import InvalidToken

ALGORITHM = "RS256"


class PyJwtTokenVerifier:
    def __init__(
        self,
        *,
        jwks: JwksFetcher,
        issuer: str,
        audiences: Iterable[str],
        monotonic: Callable[[], float],
        leeway_seconds: int = 30,
        refetch_cooldown: float = 300.0,
        retry_after_failure: float = 5.0,
    ) -> None:
        self._jwks = jwks
        self._issuer = issuer
        self._audiences = list(audiences)
        self._monotonic = monotonic
        self._leeway = leeway_seconds
        self._cooldown = refetch_cooldown
        self._retry_after_failure = min(refetch_cooldown, retry_after_failure)
        self._keys: dict[str, Any] = {}
        self._next_fetch_at: float | None = None

    def verify(self, token: str) -> Mapping[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"malformed token: {exc}") from None
        if header.get("alg") != ALGORITHM:
            raise InvalidToken(f"algorithm {header.get('alg')!r} is not {ALGORITHM}")
        key = self._key(header.get("kid"))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[ALGORITHM],
                audience=self._audiences,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "token_use"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"{type(exc).__name__}: {exc}") from None
        if claims.get("token_use") != "id":
            raise InvalidToken(f"token_use is {claims.get('token_use')!r}, not 'id'")
        return claims

    def _key(self, kid: object) -> Any:
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("token header has no kid")
        if kid not in self._keys and self._may_refetch():
            self._refetch()
        if kid not in self._keys:
            raise InvalidToken(f"unknown signing key {kid!r}")
        return self._keys[kid]

    def _may_refetch(self) -> bool:
        return self._next_fetch_at is None or self._monotonic() >= self._next_fetch_at

    def _refetch(self) -> None:
        now = self._monotonic()
        try:
            key_set = PyJWKSet.from_dict(self._jwks.fetch())
        except Exception as exc:  # the pool's endpoint failed or sent garbage: no key, no access
            self._next_fetch_at = now + self._retry_after_failure
            raise InvalidToken(f"cannot read the key set: {exc}") from None
        self._next_fetch_at = now + self._cooldown
        self._keys = {
            k.key_id: k.key
            for k in key_set.keys
            if k.key_id and k.key_type == "RSA" and k.algorithm_name in (ALGORITHM, None)
        }
