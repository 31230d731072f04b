"""Run every benchmark: `python -m bench [name-substring …]`. Prints a table and writes JSON."""

import importlib
import json
import pkgutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


class Report:
    def __init__(self):
        self.rows: list[dict] = []

    def __call__(
        self,
        name: str,
        value: float,
        unit: str,
        target: float | None = None,
        higher_is_better: bool = True,
        baseline: float | None = None,
        note: str = "",
    ):
        """One figure. `target` is the goal; `baseline` (same run) makes the figure a ratio."""
        ok = None
        if target is not None:
            ok = value >= target if higher_is_better else value <= target
        row = {
            "name": name,
            "value": value,
            "unit": unit,
            "target": target,
            "higher_is_better": higher_is_better,
            "baseline": baseline,
            "ok": ok,
            "note": note,
        }
        self.rows.append(row)
        goal = "" if target is None else (">= " if higher_is_better else "<= ") + f"{target:g}"
        status = {True: "OK", False: "MISS", None: ""}[ok]
        print(f"  {name:<48} {value:>12.3f} {unit:<10} {goal:<12} {status} {note}", flush=True)


def main(argv: list[str]) -> int:
    report = Report()
    names = sorted(m.name for m in pkgutil.iter_modules([str(HERE)]) if m.name.startswith("bench_"))
    names = [n for n in names if not argv or any(a in n for a in argv)]
    print(f"{'figure':<50} {'value':>12} {'unit':<10} {'target':<12}")
    for name in names:
        print(f"[{name}]", flush=True)
        started = time.monotonic()
        importlib.import_module(f"bench.{name}").run(report)
        print(f"  ({time.monotonic() - started:.1f} s)", flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(report.rows, ensure_ascii=False, indent=2))
    missed = [r["name"] for r in report.rows if r["ok"] is False]
    print(
        f"\n{len(report.rows)} figures, {len(missed)} missed target"
        + (f": {', '.join(missed)}" if missed else "")
    )
    print(f"written to {RESULTS / 'latest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
