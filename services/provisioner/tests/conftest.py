from __future__ import annotations

import sys
from pathlib import Path

# The builders module sits beside the tests (import mode is importlib: no package needed).
sys.path.insert(0, str(Path(__file__).parent))
