"""Fault injection: the local platform misbehaving the way AWS does in production, on purpose.

A plan is a seed and a list of rules; each rule names a fault kind, the share of matching calls it
hits (0..1) and optional selectors (glob patterns on what the call is about: a table, an
operation, a function, a queue). Given the same seed and the same sequence of calls per selector,
the same calls fail, so a failing run can be repeated.

Where a plan comes from:
- `make run FAULTS=...` / `saas-local run --faults ...` (env `FAULTS`, seed in `FAULT_SEED`):
  JSON text, a path to a JSON or YAML file, or the short form `kind=share,kind=share`;
- tests: `start_platform(faults=...)` with a `FaultPlan` or the same text;
- a running platform: `saas-local faults ...` (POST to the control endpoint's /faults); an empty
  plan turns faults off.

Every process of the platform holds a `FaultInjector`: the platform's own (gateway, pumps, function
runtimes) and moto's server process (the AWS APIs), which is told each new plan through
`/moto-api/saas/faults`. Each injector counts what it injected, by kind.

The kinds, with their selectors and what each does, are listed in KINDS; docs: README's "Faults".
"""

from __future__ import annotations

import fnmatch
import json
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# kind -> (selectors it takes, the error code it answers with by default, what it does)
KINDS: dict[str, tuple[tuple[str, ...], str | None, str]] = {
    "eventbridge.entry_failure": (
        ("bus", "source", "detail_type"),
        "InternalFailure",
        "PutEvents answers 200 with FailedEntryCount and the entry's ErrorCode/ErrorMessage",
    ),
    "eventbridge.throttle": (
        ("bus",),
        "ThrottlingException",
        "the whole PutEvents call fails (400 ThrottlingException)",
    ),
    "dynamodb.throttle": (
        ("table", "operation"),
        "ThrottlingException",
        "the request fails as an on-demand table throttles (400, retried by the SDK)",
    ),
    "dynamodb.transaction_conflict": (
        ("table", "operation"),
        "TransactionConflict",
        "a transaction is cancelled (TransactionCanceledException, reason TransactionConflict); "
        "a single-item write answers TransactionConflictException",
    ),
    "sts.error": (("operation",), "Throttling", "an STS call fails (400, retried by the SDK)"),
    "cloudformation.error": (
        ("operation", "stack"),
        "Throttling",
        "a CloudFormation call fails (400, retried by the SDK)",
    ),
    "lambda.crash": (
        ("function",),
        None,
        "the execution environment dies in the middle of a request or batch (Runtime.ExitError)",
    ),
    "lambda.timeout": (
        ("function",),
        None,
        "the invocation runs past the function's timeout (Sandbox.Timedout)",
    ),
    "delivery.duplicate": (
        ("source",),
        None,
        "a message or stream record is delivered a second time (at-least-once)",
    ),
    "delivery.reorder": (
        ("source",),
        None,
        "a batch from a standard SQS queue is delivered in another order (never a stream shard)",
    ),
    "jwks.unreachable": (
        (),
        None,
        "the user pool's JWKS endpoint does not answer (the authorizer must fail closed)",
    ),
}

ENV_FAULTS = "FAULTS"
ENV_SEED = "FAULT_SEED"
MOTO_FAULTS_PATH = "/moto-api/saas/faults"


class FaultPlanError(ValueError):
    """A plan that cannot be read: the message says what is wrong."""


@dataclass(frozen=True)
class FaultRule:
    kind: str
    share: float
    selectors: Mapping[str, str] = field(default_factory=dict)
    code: str | None = None  # the error code to answer with; None: the kind's default

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(
            fnmatch.fnmatchcase(labels.get(name, ""), pattern)
            for name, pattern in self.selectors.items()
        )

    @property
    def error_code(self) -> str | None:
        return self.code or KINDS[self.kind][1]

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"kind": self.kind, "share": self.share, **self.selectors}
        if self.code:
            document["code"] = self.code
        return document


@dataclass(frozen=True)
class FaultPlan:
    seed: int = 0
    rules: tuple[FaultRule, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.rules)

    def to_json(self) -> dict[str, Any]:
        return {"seed": self.seed, "faults": [rule.to_json() for rule in self.rules]}

    @classmethod
    def from_json(cls, document: Any, seed: int | None = None) -> FaultPlan:
        if not isinstance(document, Mapping):
            raise FaultPlanError('a fault plan is an object: {"seed": 1, "faults": [...]}')
        unknown = set(document) - {"seed", "faults"}
        if unknown:
            raise FaultPlanError(f"a fault plan takes seed and faults, not {sorted(unknown)}")
        rules = document.get("faults", [])
        if not isinstance(rules, list):
            raise FaultPlanError("faults is a list of rules")
        plan_seed = document.get("seed", 0) if seed is None else seed
        if not isinstance(plan_seed, int) or isinstance(plan_seed, bool):
            raise FaultPlanError(f"seed is an integer, not {plan_seed!r}")
        return cls(plan_seed, tuple(_rule(item, n) for n, item in enumerate(rules)))

    @classmethod
    def parse(cls, text: str, seed: int | None = None) -> FaultPlan:
        """JSON text, a path to a .json/.yaml/.yml file, or `kind=share[,kind=share...]`."""
        text = text.strip()
        if not text:
            return cls(seed or 0)
        if text.startswith("{"):
            try:
                return cls.from_json(json.loads(text), seed)
            except json.JSONDecodeError as exc:
                raise FaultPlanError(f"the fault plan is not valid JSON: {exc}") from None
        path = Path(text)
        if path.suffix in {".json", ".yaml", ".yml"}:
            if not path.is_file():
                raise FaultPlanError(f"no fault plan file {text}")
            import yaml  # JSON is YAML too

            try:
                return cls.from_json(yaml.safe_load(path.read_text(encoding="utf-8")), seed)
            except yaml.YAMLError as exc:
                raise FaultPlanError(f"{text} is not valid YAML or JSON: {exc}") from None
        rules = []
        for n, part in enumerate(p for p in text.split(",") if p.strip()):
            kind, equals, share = part.strip().partition("=")
            if not equals:
                raise FaultPlanError(
                    f"{part.strip()!r}: the short form is kind=share, for example "
                    "dynamodb.throttle=0.1 (kinds: " + ", ".join(KINDS) + ")"
                )
            rules.append(_rule({"kind": kind.strip(), "share": _share(share.strip(), n)}, n))
        return cls(seed or 0, tuple(rules))

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> FaultPlan:
        seed_text = environ.get(ENV_SEED, "").strip()
        try:
            seed = int(seed_text) if seed_text else None
        except ValueError:
            raise FaultPlanError(f"{ENV_SEED} is an integer, not {seed_text!r}") from None
        return cls.parse(environ.get(ENV_FAULTS, ""), seed)


def _share(value: Any, n: int) -> float:
    try:
        share = float(value)
    except (TypeError, ValueError):
        raise FaultPlanError(f"fault {n}: share is a number from 0 to 1, not {value!r}") from None
    if not 0.0 <= share <= 1.0 or isinstance(value, bool):
        raise FaultPlanError(f"fault {n}: share is a number from 0 to 1, not {value!r}")
    return share


def _rule(item: Any, n: int) -> FaultRule:
    if not isinstance(item, Mapping):
        raise FaultPlanError(f"fault {n} is an object with kind and share")
    kind = item.get("kind")
    if kind not in KINDS:
        raise FaultPlanError(f"fault {n}: unknown kind {kind!r} (kinds: {', '.join(KINDS)})")
    allowed = KINDS[kind][0]
    selectors: dict[str, str] = {}
    for name, value in item.items():
        if name in {"kind", "share", "code"}:
            continue
        if name not in allowed:
            takes = ", ".join(allowed) if allowed else "no selectors"
            raise FaultPlanError(f"fault {n}: {kind} takes {takes}, not {name!r}")
        if not isinstance(value, str):
            raise FaultPlanError(f"fault {n}: {name} is a glob pattern (a string)")
        selectors[name] = value
    code = item.get("code")
    if code is not None and not isinstance(code, str):
        raise FaultPlanError(f"fault {n}: code is a string")
    return FaultRule(kind, _share(item.get("share"), n), selectors, code)


class FaultInjector:
    """Decides, per call, whether a fault hits it; counts what it injected. Thread-safe."""

    def __init__(self, plan: FaultPlan | None = None) -> None:
        self._lock = threading.Lock()
        self._plan = plan or FaultPlan()
        self._calls: dict[tuple[int, str, tuple[tuple[str, str], ...]], int] = {}
        self._counts: dict[str, int] = {}

    @property
    def plan(self) -> FaultPlan:
        return self._plan

    def replace(self, plan: FaultPlan) -> None:
        with self._lock:
            self._plan = plan
            self._calls = {}

    def fault(self, kind: str, **labels: str) -> FaultRule | None:
        """The rule that hits this call, or None. `labels` are what the kind's selectors match
        (a missing label matches only the pattern "" or "*")."""
        plan = self._plan
        if not plan.rules:  # the common case: one attribute read
            return None
        if kind not in KINDS:
            raise FaultPlanError(f"unknown fault kind {kind!r}")
        key_labels = tuple(sorted(labels.items()))
        with self._lock:
            for index, rule in enumerate(plan.rules):
                if rule.kind != kind or not rule.matches(labels):
                    continue
                key = (index, kind, key_labels)
                call = self._calls.get(key, 0)
                self._calls[key] = call + 1
                draw = random.Random(f"{plan.seed}|{index}|{key_labels}|{call}").random()
                if draw < rule.share:
                    self._counts[kind] = self._counts.get(kind, 0) + 1
                    return rule
        return None

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def reset_counts(self) -> None:
        with self._lock:
            self._counts = {}


# --- moto's server process ---------------------------------------------------------------------
# The AWS APIs' faults are decided in moto's process, by this injector; the platform passes the
# starting plan in ENV_MOTO_PLAN and each new one through MOTO_FAULTS_PATH.

ENV_MOTO_PLAN = "SAAS_LOCAL_FAULT_PLAN"
_moto_injector = FaultInjector()


def moto_injector() -> FaultInjector:
    """The injector of moto's server process (the AWS APIs' faults)."""
    return _moto_injector


def _moto_faults(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
    json_type = {"Content-Type": "application/json"}
    if request.method == "POST":
        body = request.data if hasattr(request, "data") else request.body
        try:
            plan = FaultPlan.from_json(json.loads(body or b"{}"))
        except (ValueError, FaultPlanError) as exc:
            return 400, json_type, json.dumps({"message": str(exc)})
        _moto_injector.replace(plan)
    document = {"plan": _moto_injector.plan.to_json(), "counts": _moto_injector.counts()}
    return 200, json_type, json.dumps(document)


def serve_on_moto(environ: Mapping[str, str]) -> None:
    """In moto's server process, before it serves: the starting plan, and the endpoint that
    replaces it (POST) or reads it and the counts (GET)."""
    from moto.moto_api._internal import urls

    text = environ.get(ENV_MOTO_PLAN, "")
    if text:
        _moto_injector.replace(FaultPlan.from_json(json.loads(text)))
    urls.url_paths["{0}" + MOTO_FAULTS_PATH + "$"] = _moto_faults


def tell_moto(endpoint_url: str, plan: FaultPlan | None = None) -> dict[str, Any]:
    """Replace the plan of moto's process (plan given) or read it; its plan and counts."""
    from urllib import request

    call = request.Request(
        endpoint_url.rstrip("/") + MOTO_FAULTS_PATH,
        data=None if plan is None else json.dumps(plan.to_json()).encode(),
        headers={"Content-Type": "application/json"},
        method="GET" if plan is None else "POST",
    )
    with request.urlopen(call, timeout=10) as answer:
        document: dict[str, Any] = json.loads(answer.read())
    return document
