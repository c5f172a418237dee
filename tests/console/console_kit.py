"""What the console's journeys share: the console under test, the page visitor (a screenshot of
every page and axe-core's serious and critical rules), the time a flow may take."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(os.environ.get("CONSOLE_SCREENSHOTS", ROOT / "build" / "console-screenshots"))
# Milliseconds a state change may take to reach the screen on a loaded 2-core machine (a bound).
FLOW_TIMEOUT_MS = 150_000


@dataclass
class Console:
    url: str
    platform: Any
    # What one journey leaves for the next (tenants, users, passwords).
    state: dict[str, Any] = field(default_factory=dict)


class Visitor:
    """Saves a screenshot of each page visited and holds it to axe-core's serious and critical
    rules."""

    def __init__(self, page: Any, folder: Path) -> None:
        self.page = page
        self.folder = folder
        self.count = 0
        self.visited: list[str] = []

    def __call__(self, name: str) -> None:
        self.page.wait_for_load_state("networkidle")
        self.count += 1
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        self.page.screenshot(path=str(self.folder / f"{self.count:02d}-{slug}.png"), full_page=True)
        self.visited.append(name)
        violations = axe_violations(self.page)
        assert not violations, f"axe on {name!r}: {json.dumps(violations, indent=1)}"


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page (axe bundled from npm)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, which the page's content security policy
        # (script-src 'self', as deployed) does not govern: a <script> tag would be refused.
        page.evaluate(AXE.read_text() + "\n;undefined")
    results = page.evaluate("() => window.axe.run(document, {resultTypes: ['violations']})")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
