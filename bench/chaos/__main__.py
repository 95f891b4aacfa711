"""``python -m bench.chaos [--long] [--seed N] [--output FILE]``: a chaos run, figures to JSON."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from bench.chaos.run import LONG, SHORT, run, summary
from tests.support import ROOT

RESULTS = ROOT / "bench" / "results" / "chaos.json"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    parser.add_argument(
        "--long", action="store_true", help="102 kills, 3 broker restarts, 10 immediate stops"
    )
    parser.add_argument("--seed", type=int, help="the schedule's random seed (to replay a run)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    work_dir = ROOT / ".local-stack" / "chaos" / "services"
    result = asyncio.run(run(LONG if args.long else SHORT, work_dir, seed=args.seed))
    result["form"] = "long" if args.long else "short"
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(summary(result))
    print(f"figures: {args.output}")
    clean = result["audit"]["lost_total"] == 0 and result["audit"]["duplicated_total"] == 0
    return 0 if clean and result["quiet"]["reached"] else 1


if __name__ == "__main__":
    sys.exit(main())
