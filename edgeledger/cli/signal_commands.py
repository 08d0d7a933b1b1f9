"""`edgeledger signals ...`: log, import, export and inspect signals."""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from edgeledger import exporter, importer, ledger, storage
from edgeledger.cli.base import Context, add_command, add_group
from edgeledger.exporter import utc_text
from edgeledger.model import Source
from edgeledger.validation import parse_signal


def cmd_signals_add(args: argparse.Namespace, ctx: Context) -> int:
    raw = {
        "trade_id": args.trade_id,
        "ticker": args.ticker,
        "trade_type": args.trade_type,
        "direction": args.direction,
        "entry": args.entry,
        "stop": args.stop,
        "target": args.target,
        "target2": args.target2,
        "confidence": args.confidence,
        "edges": args.edge or None,
        "rationale": args.rationale,
        "strategy": args.strategy,
        "source": args.source,
        "source_key": args.source_key,
        "atr_value": args.atr,
        "market_volatility": args.volatility,
        "spy_bias": args.spy_bias,
        "created_at": args.created_at,
        "expires_at": args.expires_at,
    }
    signal = parse_signal(
        {k: v for k, v in raw.items() if v is not None},
        now=ctx.now,
        default_source=Source.API,
        created_at_defaults_to_now=True,
    )
    result = ledger.log_signal(ctx.db(), signal, actor="cli", now=ctx.now)
    verb = "logged" if result.created else "already logged"
    print(f"{verb} {result.signal.trade_id}", file=ctx.out)
    return 0


def cmd_signals_import(args: argparse.Namespace, ctx: Context) -> int:
    def progress(stage: str, count: int) -> None:
        if args.progress:
            print(f"  {stage} {count:,} rows", file=ctx.err, flush=True)

    report = importer.import_file(
        ctx.db(), Path(args.file), now=ctx.now, skip_invalid=args.skip_invalid, progress=progress
    )
    print(
        f"imported {report.inserted} new signals from {report.rows} rows"
        f" ({report.already_present} already present, {report.duplicates_in_file} repeated"
        f" in the file, {report.skipped_lines} invalid rows skipped)",
        file=ctx.out,
    )
    for problem in report.skipped:
        print(f"  skipped {problem}", file=ctx.err)
    return 0


def cmd_signals_export(args: argparse.Namespace, ctx: Context) -> int:
    with ExitStack() as stack:
        out = ctx.out
        if args.out:
            out = stack.enter_context(Path(args.out).open("w", newline="", encoding="utf-8"))
        with ctx.db().connection() as conn:
            count = exporter.write_export(storage.export_rows(conn), out, args.format)
    if args.out:
        print(f"exported {count} signals to {args.out}", file=ctx.err)
    return 0


def cmd_signals_show(args: argparse.Namespace, ctx: Context) -> int:
    history = ledger.signal_history(ctx.db(), args.trade_id)
    terms, outcome = history.signal.terms, history.signal.outcome
    lines = [
        f"{history.signal.trade_id}  {terms.ticker} {terms.trade_type} {terms.direction}"
        f"  {'★' * terms.confidence}{'☆' * (5 - terms.confidence)}",
        f"  entry {terms.entry:f}  stop {terms.stop:f}  target {terms.target:f}"
        + (f"  target2 {terms.target2:f}" if terms.target2 is not None else ""),
        f"  edges: {', '.join(e.name for e in terms.edges) or '-'}",
        f"  created {utc_text(terms.created_at)}  expires {utc_text(terms.expires_at)}",
        f"  status {outcome.status}"
        + (f"  R {outcome.r_achieved}" if outcome.r_achieved is not None else "")
        + (f"  ({outcome.exit_reason})" if outcome.exit_reason else ""),
    ]
    if terms.rationale:
        lines.append(f"  rationale: {terms.rationale}")
    if history.signal.user_notes:
        lines.append(f"  notes: {history.signal.user_notes}")
    lines.append("  history:")
    for event in history.events:
        payload = storage.dumps(event["payload"]) if event["payload"] else ""
        lines.append(
            f"    {utc_text(event['occurred_at'])}  {event['kind']:<10} {event['actor']}  {payload}"
        )
    print("\n".join(lines), file=ctx.out)
    return 0


def register(groups: Any) -> None:
    sub = add_group(
        groups,
        "signals",
        "log, import, export and inspect signals",
        "edgeledger signals show NVDA-20261120-001",
    )

    add = add_command(
        sub,
        "add",
        cmd_signals_add,
        "log one signal",
        "edgeledger signals add --ticker NVDA --type day --direction long --entry 181.20"
        " --stop 179.90 --target 184.00 --confidence 4 --edge 'VWAP reclaim'"
        " --edge 'RS vs SPY'",
    )
    add.add_argument("--ticker", required=True, help="e.g. NVDA, BRK.B, ^GSPC, EURUSD=X")
    add.add_argument("--type", dest="trade_type", required=True, help="day or swing")
    add.add_argument("--direction", required=True, help="long or short")
    add.add_argument("--entry", required=True, help="entry price")
    add.add_argument("--stop", required=True, help="stop price")
    add.add_argument("--target", required=True, help="target price")
    add.add_argument("--target2", help="second target (optional)")
    add.add_argument("--confidence", required=True, help="stars, 0 to 5")
    add.add_argument("--edge", action="append", help="an edge name; repeat for several")
    add.add_argument("--rationale", help="why the bot took the trade")
    add.add_argument("--strategy", help="which generator and version produced it")
    add.add_argument("--source", help="discord, channel, api (default), import or backtest")
    add.add_argument("--source-key", help="an id from the source, for idempotency")
    add.add_argument("--atr", help="ATR at signal time")
    add.add_argument("--volatility", help="market volatility label or value")
    add.add_argument("--spy-bias", help="SPY bias, e.g. bullish")
    add.add_argument("--created-at", help="ISO 8601 with offset or Z (default: now)")
    add.add_argument("--expires-at", help="ISO 8601 (default: the rules' expiry)")
    add.add_argument("--trade-id", help="explicit id (default: TICKER-YYYYMMDD-NNN)")

    imp = add_command(
        sub,
        "import",
        cmd_signals_import,
        "import a .csv or .jsonl file; a bad file writes nothing",
        "edgeledger signals import signals.csv",
        "edgeledger signals import backtest.jsonl --skip-invalid",
    )
    imp.add_argument(
        "file", type=Path, help="a .csv or .jsonl file (columns: see docs/import-export.md)"
    )
    imp.add_argument(
        "--skip-invalid", action="store_true", help="import the good rows and report the bad ones"
    )
    imp.add_argument(
        "--no-progress",
        dest="progress",
        action="store_false",
        help="do not print progress to stderr",
    )

    exp = add_command(
        sub,
        "export",
        cmd_signals_export,
        "export every signal with its outcome",
        "edgeledger signals export > signals.csv",
        "edgeledger signals export --format jsonl --out signals.jsonl",
    )
    exp.add_argument("--format", choices=exporter.FORMATS, default="csv")
    exp.add_argument("--out", type=Path, help="file to write (default: standard output)")

    show = add_command(
        sub,
        "show",
        cmd_signals_show,
        "a signal and its event history",
        "edgeledger signals show NVDA-20261120-001",
    )
    show.add_argument("trade_id")
