from __future__ import annotations

import os
import re
import sys
from pathlib import Path

# The builders module sits beside the tests (import mode is importlib: no package needed).
sys.path.insert(0, str(Path(__file__).parent))

# Logger, Metrics and Tracer take their names from the function's environment, as in Lambda:
# the tests run with the values template.yaml gives every function.
_TEMPLATE = (Path(__file__).parents[1] / "template.yaml").read_text(encoding="utf-8")
for _name in ("POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE"):
    _found = re.search(rf"^\s+{_name}: (\S+)$", _TEMPLATE, re.MULTILINE)
    assert _found, f"template.yaml sets no {_name}"
    os.environ.setdefault(_name, _found.group(1))
