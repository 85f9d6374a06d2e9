"""`make bench`: run every benchmark and print one table.

The service-level figures (operations, lead time) run in a fresh process each: their memory rows are the service's
own, and an earlier benchmark that loaded the model in this process would otherwise be counted in them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from . import cycle, hostile, matching, web


def fresh(module: str) -> list[tuple[str, str]]:
    code = f"import json; from bench import {module}; print('ROWS ' + json.dumps({module}.measure()))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1]).stdout
    line = next(line for line in reversed(out.splitlines()) if line.startswith("ROWS "))
    return [tuple(row) for row in json.loads(line[5:])]


def main() -> None:
    rows = [("benchmark", "value")]
    rows += cycle.measure()
    rows += fresh("operations")
    rows += fresh("leadtime")
    rows += matching.measure()
    rows += hostile.measure()
    rows += web.measure()
    width = max(len(name) for name, _ in rows)
    print(f"| {'benchmark':<{width}} | value |")
    print(f"|{'-' * (width + 2)}|-------|")
    for name, value in rows[1:]:
        print(f"| {name:<{width}} | {value} |")


if __name__ == "__main__":
    main()
