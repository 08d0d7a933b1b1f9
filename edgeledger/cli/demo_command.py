"""`edgeledger demo`: the whole product on the sample book, offline (edgeledger/demo.py)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from edgeledger import demo
from edgeledger.cli.base import Context, examples


def cmd_demo(args: argparse.Namespace, ctx: Context) -> int:
    return demo.run(args.book, args.out, out=ctx.out, keep=args.keep)


def register(groups: Any) -> None:
    p = groups.add_parser(
        "demo",
        help="the whole loop on a synthetic sample book, offline, in a throwaway database",
        description="Import examples/sample-book (synthetic bars), resolve it, build the weekly"
        " report, print its headline and best edges, write its HTML, audit every outcome."
        " Your own ledger and the network are not touched.",
        epilog=examples(
            "edgeledger demo",
            "edgeledger demo --out /tmp/report.html",
            "edgeledger demo --keep demo-data   # then open the dashboard on it, as printed",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--book",
        type=Path,
        default=demo.SAMPLE_BOOK,
        help="a folder with signals.csv and prices/ (default: examples/sample-book)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=demo.DEFAULT_OUT,
        help=f"where the report's HTML goes (default: ./{demo.DEFAULT_OUT})",
    )
    p.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="keep the demo's database in DIR and print how to open the dashboard on it",
    )
    p.set_defaults(func=cmd_demo)
