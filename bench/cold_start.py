"""Cold start of every Lambda handler, from the zip `make package` builds, against `import boto3`.

Each sample is a fresh interpreter of a runtime that holds boto3 alone (as Lambda's does), with
the unzipped package first on sys.path (as /var/task is). It times importing the handler
module and building its container, then the same for a bare `import boto3`, interleaved so a
noisy neighbour slows both alike.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from collections import defaultdict
from pathlib import Path

from bench.report import Row, median_ms
from bench.templates import ROOT, Function, functions, services

WORK = ROOT / "build" / "bench"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "9"))
API_GOAL = 1.5

# Runs inside the fresh interpreter. `bootstrap()`, when a handler module has one, builds what
# the first invocation would otherwise build (the container's singletons).
PROBE = """
import importlib, sys, time
t0 = time.perf_counter()
if sys.argv[1] == "boto3":
    import boto3
else:
    module = importlib.import_module(sys.argv[1])
    getattr(module, sys.argv[2])
    bootstrap = getattr(module, "bootstrap", None)
    if callable(bootstrap):
        bootstrap()
print(time.perf_counter() - t0)
"""


def _uv() -> str:
    return shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")


def _boto3_version() -> str:
    import boto3

    return str(boto3.__version__)


def lambda_runtime() -> Path:
    """A Python with boto3 and nothing else, compiled, like the Lambda runtime."""
    python = WORK / "runtime" / "bin" / "python"
    if not python.exists():
        subprocess.run([_uv(), "venv", "-q", str(WORK / "runtime")], check=True)
        pin = f"boto3=={_boto3_version()}"
        subprocess.run(
            [_uv(), "pip", "install", "-q", "--compile-bytecode", "--python", str(python), pin],
            check=True,
        )
    return python


def unpack(service: str) -> Path:
    subprocess.run(["make", "-s", "package", f"SERVICE={service}"], cwd=ROOT, check=True)
    target = WORK / "code" / service
    shutil.rmtree(target, ignore_errors=True)
    with zipfile.ZipFile(ROOT / "dist" / f"{service}.zip") as archive:
        archive.extractall(target)
    return target


def _environment(code: Path | None, function: Function | None) -> dict[str, str]:
    """Lambda's environment for the function, as deployed (Tracing: Active, so the Tracer is on).
    LAMBDA_TASK_ROOT matters: libraries such as the X-Ray SDK take a lighter path in Lambda."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
        # /var/task is read-only in Lambda: nothing compiled on one sample may help the next.
        "PYTHONDONTWRITEBYTECODE": "1",
        "POWERTOOLS_METRICS_NAMESPACE": "saas-bench",
    }
    if function:
        env.update(function.environment)
        env["POWERTOOLS_SERVICE_NAME"] = function.service
        env["AWS_LAMBDA_FUNCTION_NAME"] = f"bench-{function.service}-{function.logical_id}"
        env["_HANDLER"] = f"{function.module}.{function.attribute}"
    if code:
        env["PYTHONPATH"] = str(code)
        env["LAMBDA_TASK_ROOT"] = str(code)
    return env


def _sample(python: Path, code: Path | None, function: Function | None) -> float:
    args = [function.module, function.attribute] if function else ["boto3", ""]
    out = subprocess.run(
        [str(python), "-c", PROBE, *args],
        env=_environment(code, function),
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{args[0]} failed to start:\n{out.stderr[-2000:]}")
    return float(out.stdout.strip().splitlines()[-1])


def heaviest_imports(python: Path, code: Path, function: Function, top: int = 3) -> str:
    """Import time summed by top-level package (self time of all its modules)."""
    out = subprocess.run(
        [str(python), "-X", "importtime", "-c", PROBE, function.module, function.attribute],
        env=_environment(code, function),
        capture_output=True,
        text=True,
        check=True,
    )
    per_package: dict[str, int] = defaultdict(int)
    for line in out.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s+(\S+)", line)
        if match:
            per_package[match.group(2).split(".")[0]] += int(match.group(1))
    ranked = sorted(per_package.items(), key=lambda kv: kv[1], reverse=True)[:top]
    return ", ".join(f"{name} {us / 1000:.0f} ms" for name, us in ranked)


def run() -> list[Row]:
    python = lambda_runtime()
    targets = [(code, f) for s in services() for code in [unpack(s)] for f in functions(s)]
    if not targets:
        return [Row("cold start", "no handlers in any template yet", 0.0)]
    baseline: list[float] = []
    samples: dict[str, list[float]] = defaultdict(list)
    for _ in range(ROUNDS):
        baseline.append(_sample(python, None, None))
        for code, function in targets:
            samples[function.logical_id + function.service].append(_sample(python, code, function))
    base = median_ms(baseline)
    rows = []
    for code, function in targets:
        median = median_ms(samples[function.logical_id + function.service])
        goal = f"<= {API_GOAL}x" if function.is_api else ""
        rows.append(
            Row(
                "cold start",
                f"{function.service}.{function.logical_id}",
                median,
                "import boto3",
                base,
                goal,
                (median / base <= API_GOAL) if function.is_api else None,
                "heaviest: " + heaviest_imports(python, code, function),
            )
        )
    return rows


if __name__ == "__main__":
    from bench.report import render

    print(render(run()))
