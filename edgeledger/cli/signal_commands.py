"""`edgeledger signals ...`: log, import, export and inspect signals."""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from edgeledger import corrections, exporter, importer, ledger, storage
from edgeledger.cli.base import Context, add_command, add_group
from edgeledger.core.model import Outcome, Source, Status
from edgeledger.core.signals import decimal_text
from edgeledger.core.validation import parse_signal, parse_timestamp
from edgeledger.errors import InvalidOption


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
        "market": args.market,
    }
    db = ctx.db()
    with db.connection() as conn:
        markets = storage.market_book(
            conn, [str(args.ticker).strip().upper()], default=ctx.settings.default_market
        )
    signal = parse_signal(
        {k: v for k, v in raw.items() if v is not None},
        now=ctx.now,
        default_source=Source.API,
        created_at_defaults_to_now=True,
        markets=markets,
    )
    if signal.source is Source.BACKTEST:  # the resolver never settles one: it needs its outcome
        raise InvalidOption("--source", importer.BACKTEST_ONLY_BY_FLAG)
    result = ledger.log_signal(ctx.db(), signal, actor="cli", now=ctx.now)
    verb = "logged" if result.created else "already logged"
    print(f"{verb} {result.signal.trade_id}", file=ctx.out)
    return 0


def cmd_signals_import(args: argparse.Namespace, ctx: Context) -> int:
    def progress(stage: str, count: int) -> None:
        if args.progress and count >= importer.PROGRESS_EVERY:  # a small file needs none
            print(f"  {stage} {count:,} rows", file=ctx.err, flush=True)

    report = importer.import_file(
        ctx.db(),
        Path(args.file),
        now=ctx.now,
        skip_invalid=args.skip_invalid,
        progress=progress,
        default_market=ctx.settings.default_market,
        backtest=args.source == "backtest",
    )
    print(
        f"imported {_count(report.inserted, 'new signal')} from {_count(report.rows, 'row')}"
        f" ({report.already_present} already present, {report.duplicates_in_file} repeated"
        f" in the file, {_count(report.skipped_lines, 'invalid row')} skipped)",
        file=ctx.out,
    )
    for problem in report.skipped:
        print(f"  skipped {problem}", file=ctx.err)
    return 0


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def cmd_signals_export(args: argparse.Namespace, ctx: Context) -> int:
    with ExitStack() as stack:
        out = ctx.out
        if args.out:
            target = Path(args.out)
            if not target.parent.is_dir():
                raise InvalidOption("--out", f"folder {str(target.parent)!r} does not exist")
            try:
                out = stack.enter_context(target.open("w", newline="", encoding="utf-8"))
            except OSError as exc:
                raise InvalidOption("--out", f"cannot write {args.out!r}: {exc.strerror}") from None
        with ctx.db().connection() as conn:
            count = exporter.write_export(storage.export_rows(conn), out, args.format)
    if args.out:
        print(f"exported {_count(count, 'signal')} to {args.out}", file=ctx.err)
    return 0


def cmd_signals_show(args: argparse.Namespace, ctx: Context) -> int:
    history = ledger.signal_history(ctx.db(), args.trade_id)
    print("\n".join(signal_card(history)), file=ctx.out)
    return 0


def signal_card(history: ledger.SignalHistory) -> list[str]:
    """A signal as a trader reads it: terms, market, the outcome and why, and its history."""
    signal = history.signal
    terms, outcome = signal.terms, signal.outcome
    stars = "★" * terms.confidence + "☆" * (5 - terms.confidence)
    lines = [
        f"{signal.trade_id}  {terms.ticker} {terms.trade_type} {terms.direction}  {stars}",
        f"  entry {_price(terms.entry)}  stop {_price(terms.stop)}  target {_price(terms.target)}"
        + (f"  target2 {_price(terms.target2)}" if terms.target2 is not None else "")
        + f"  (risk {_price(terms.risk)})",
        f"  edges: {', '.join(e.name for e in terms.edges) or '-'}",
        f"  market: {_market_line(terms.market, history.instrument)}",
        f"  created {_when(terms.created_at)}  expires {_when(terms.expires_at)}",
        "  outcome: " + _outcome_line(outcome),
    ]
    if outcome.fill_price is not None:
        lines.append(f"    filled at {_price(outcome.fill_price)} {_when(outcome.triggered_at)}")
    if outcome.exit_price is not None:
        lines.append(f"    exited at {_price(outcome.exit_price)} {_when(outcome.closed_at)}")
    if outcome.mfe_r is not None:
        lines.append(f"    best {_r(outcome.mfe_r)}, worst {_r(outcome.mae_r)} while open")
    if outcome.target2_hit is not None:
        lines.append(f"    target2 {'reached' if outcome.target2_hit else 'not reached'}")
    if outcome.ambiguous:
        lines.append(
            "    ambiguous: the bar's prices could not be ordered; settled pessimistically"
        )
    if signal.resolved_as_of is not None:
        lines.append(
            f"    derived from {signal.resolved_interval} bars as of {_when(signal.resolved_as_of)}"
        )
    if terms.strategy:
        lines.append(f"  strategy: {terms.strategy}")
    if terms.rationale:
        lines.append(f"  rationale: {terms.rationale}")
    if signal.user_notes:
        lines.append(f"  notes: {signal.user_notes}")
    if signal.flagged_for_review:
        lines.append("  flagged for review")
    lines.append("  history:")
    for event in history.events:
        payload = storage.dumps(event["payload"]) if event["payload"] else ""
        lines.append(
            f"    {_when(event['occurred_at'])}  {event['kind']:<10} {event['actor']}  {payload}"
        )
    return lines


def _price(value: Decimal | None) -> str:
    """A price as a trader writes it: at least two decimals, no trailing zeros past them."""
    if value is None:
        return "-"
    text = decimal_text(value) or "0"
    whole, _, decimals = text.partition(".")
    return f"{whole}.{decimals.ljust(2, '0')}"


def _r(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:+.2f}R"


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _market_line(named: str | None, instrument: dict[str, Any] | None) -> str:
    if named:
        return f"{named} (named on the signal)"
    if instrument is None:
        return "decided by the next resolve run"
    return f"{instrument['market']} (its instrument's, from {instrument['market_source']})"


def _outcome_line(outcome: Outcome) -> str:
    reasons = {
        "target": "target reached",
        "stop": "stopped out",
        "timeout": "expired while open, exited at the last close",
        "not_triggered": "expired without reaching the entry",
        "no_data": "expired without prices for its window; settled when they come",
        "manual": "set by a person",
    }
    text = outcome.status.value
    if outcome.r_achieved is not None:
        text += f" {_r(outcome.r_achieved)}"
    if outcome.exit_reason is not None:
        text += f" ({reasons.get(outcome.exit_reason.value, outcome.exit_reason.value)})"
    return text


def cmd_signals_list(args: argparse.Namespace, ctx: Context) -> int:
    status = args.status.strip().upper() if args.status else None
    if status is not None and status not in {s.value for s in Status}:
        raise InvalidOption("--status", f"{args.status!r} is not one of {', '.join(Status)}")
    since = parse_timestamp(args.since, "--since") if args.since else None
    with ctx.db().connection() as conn:
        rows = storage.list_signals(
            conn,
            status=status,
            ticker=args.ticker.strip().upper() if args.ticker else None,
            since=since,
            limit=args.limit,
        )
    for row in rows:
        r = _r(row["r_achieved"]) if row["r_achieved"] is not None else ""
        print(
            f"{row['trade_id']:<22} {row['ticker']:<9} {row['trade_type']:<5} {row['direction']:<5}"
            f" {_price(row['entry']):>10}  {_when(row['created_at'])}  {row['status']:<9}"
            f" {row['exit_reason'] or '':<13} {r:>8}  {row['market'] or ''}",
            file=ctx.out,
        )
    if not rows:
        print("no signals match", file=ctx.err)
    return 0


def cmd_signals_cancel(args: argparse.Namespace, ctx: Context) -> int:
    signal = ledger.cancel_signal(
        ctx.db(), args.trade_id, reason=args.reason, actor="cli", now=ctx.now
    )
    print(f"cancelled {signal.trade_id}", file=ctx.out)
    return 0


def cmd_signals_override(args: argparse.Namespace, ctx: Context) -> int:
    signal = corrections.override_outcome(
        ctx.db(),
        args.trade_id,
        status=args.status,
        exit_price=args.exit_price,
        reason=args.reason,
        actor=args.by,
        now=ctx.now,
    )
    print(f"{signal.trade_id}: {_outcome_line(signal.outcome)}", file=ctx.out)
    return 0


def cmd_signals_note(args: argparse.Namespace, ctx: Context) -> int:
    signal = corrections.add_note(
        ctx.db(), args.trade_id, text=args.text, actor=args.by, now=ctx.now
    )
    print(f"noted on {signal.trade_id}", file=ctx.out)
    return 0


def cmd_signals_flag(args: argparse.Namespace, ctx: Context) -> int:
    flagged = args.command == "flag"
    signal = corrections.set_flag(
        ctx.db(), args.trade_id, flagged=flagged, reason=args.reason, actor=args.by, now=ctx.now
    )
    state = "flagged for review" if signal.flagged_for_review else "not flagged"
    print(f"{signal.trade_id}: {state}", file=ctx.out)
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
    add.add_argument("--source", help="discord, channel, api (default) or import")
    add.add_argument("--source-key", help="an id from the source, for idempotency")
    add.add_argument("--atr", help="ATR at signal time")
    add.add_argument("--volatility", help="market volatility label or value")
    add.add_argument("--spy-bias", help="SPY bias, e.g. bullish")
    add.add_argument("--created-at", help="ISO 8601 with offset or Z (default: now)")
    add.add_argument("--expires-at", help="ISO 8601 (default: the rules' expiry)")
    add.add_argument(
        "--market",
        help="its market, e.g. XNYS, XETR, XLON, 24/5 (forex), 24/7 (crypto), CMES"
        " (default: the instrument's; see docs/markets.md)",
    )
    add.add_argument("--trade-id", help="explicit id (default: TICKER-YYYYMMDD-NNN)")

    imp = add_command(
        sub,
        "import",
        cmd_signals_import,
        "import a .csv or .jsonl file; a bad file writes nothing",
        "edgeledger signals import signals.csv",
        "edgeledger signals import backtest.csv --source backtest",
        "edgeledger signals import signals.jsonl --skip-invalid",
    )
    imp.add_argument(
        "file", type=Path, help="a .csv or .jsonl file (columns: see docs/import-export.md)"
    )
    imp.add_argument(
        "--source",
        choices=("import", "backtest"),
        default="import",
        help="import (default): live signals, settled by the rules from price bars, outcome"
        " columns ignored; backtest: a backtest's closed trades, taken with their outcomes",
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
    show.add_argument("trade_id", help="its id (case does not matter)")

    lst = add_command(
        sub,
        "list",
        cmd_signals_list,
        "find signals without their exact id, newest first",
        "edgeledger signals list --status PENDING",
        "edgeledger signals list --ticker NVDA --since 2026-11-01T00:00Z",
    )
    lst.add_argument("--status", help="PENDING, OPEN, WIN, LOSS, EXPIRED or CANCELLED")
    lst.add_argument("--ticker", help="only this ticker")
    lst.add_argument("--since", help="created at or after this time (ISO 8601)")
    lst.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")

    cancel = add_command(
        sub,
        "cancel",
        cmd_signals_cancel,
        "cancel a signal the rules have not settled (recorded with who and why)",
        "edgeledger signals cancel NVDA-20261120-001 --reason 'posted by mistake'",
    )
    cancel.add_argument("trade_id")
    cancel.add_argument("--reason", required=True, help="why it does not count")

    override = add_command(
        sub,
        "override",
        cmd_signals_override,
        "set the outcome by hand (exit_reason manual: no resolve run changes it again)",
        "edgeledger signals override NVDA-20261120-001 WIN --exit-price 184.10"
        " --reason 'closed by hand at the bell'",
        "edgeledger signals override NVDA-20261120-001 EXPIRED --reason 'never filled'",
    )
    override.add_argument("trade_id")
    override.add_argument("status", help="WIN, LOSS or EXPIRED")
    override.add_argument(
        "--exit-price", help="where it was closed (default: the target for WIN, the stop for LOSS)"
    )
    override.add_argument("--reason", required=True, help="why the rules' outcome is wrong")

    note = add_command(
        sub,
        "note",
        cmd_signals_note,
        "add a note to a signal (recorded with who)",
        "edgeledger signals note NVDA-20261120-001 'entered late, slippage 0.10'",
    )
    note.add_argument("trade_id")
    note.add_argument("text")

    for name, help_ in (("flag", "flag a signal for review"), ("unflag", "clear the review flag")):
        flag = add_command(
            sub,
            name,
            cmd_signals_flag,
            f"{help_} (recorded with who and why)",
            f"edgeledger signals {name} NVDA-20261120-001 --reason 'check the fill'",
        )
        flag.add_argument("trade_id")
        flag.add_argument("--reason", help="why")

    for command in (override, note):
        command.add_argument("--by", default="cli", help="who makes the change (default: cli)")
    for command in sub.choices.values():
        if command.get_default("func") is cmd_signals_flag:
            command.add_argument("--by", default="cli", help="who makes the change (default: cli)")
