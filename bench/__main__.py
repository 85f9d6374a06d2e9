"""`make bench`: run every benchmark and print one table."""

from __future__ import annotations

from . import cycle, hostile, leadtime, matching, operations, web


def main() -> None:
    rows = [("benchmark", "value")]
    rows += cycle.measure()
    rows += matching.measure()
    rows += operations.measure()
    rows += leadtime.measure()
    rows += hostile.measure()
    rows += web.measure()
    width = max(len(name) for name, _ in rows)
    print(f"| {'benchmark':<{width}} | value |")
    print(f"|{'-' * (width + 2)}|-------|")
    for name, value in rows[1:]:
        print(f"| {name:<{width}} | {value} |")


if __name__ == "__main__":
    main()
