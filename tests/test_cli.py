"""The edgeledger command: help everywhere, one-line errors, and the main flows."""

from __future__ import annotations

import argparse
import io

import pytest
from freezegun import freeze_time

from edgeledger.cli import build_parser, main


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def ledger_env(monkeypatch, db_url):
    monkeypatch.setenv("DATABASE_URL", db_url)
    return db_url


def all_commands(parser: argparse.ArgumentParser, path=()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from all_commands(sub, (*path, name))
    if path:
        yield path, parser


def test_every_command_has_help_and_an_example():
    for path, parser in all_commands(build_parser()):
        assert parser.description, f"{' '.join(path)} has no help text"
        assert "examples:" in (parser.epilog or ""), f"{' '.join(path)} has no example"
        assert "edgeledger" in parser.epilog


@freeze_time("2026-11-20 15:00:00")
def test_add_show_and_export_a_signal(ledger_env):
    code, out, _ = run(
        "signals",
        "add",
        "--ticker",
        "nvda",
        "--type",
        "day",
        "--direction",
        "long",
        "--entry",
        "181.20",
        "--stop",
        "179.90",
        "--target",
        "184",
        "--confidence",
        "4",
        "--edge",
        "VWAP reclaim",
        "--edge",
        "RS vs SPY",
    )
    assert (code, out) == (0, "logged NVDA-20261120-001\n")
    code, out, _ = run("signals", "show", "NVDA-20261120-001")
    assert code == 0
    assert "entry 181.20" in out and "VWAP reclaim, RS vs SPY" in out
    assert "2026-11-20 15:00 UTC  created" in out
    code, out, _ = run("signals", "export", "--format", "jsonl")
    assert code == 0 and '"trade_id": "NVDA-20261120-001"' in out


@freeze_time("2026-11-20 15:00:00")
def test_show_finds_a_signal_whatever_the_case_of_its_id_and_names_its_market(ledger_env):
    add = ("signals", "add", "--ticker", "WSU.DE", "--type", "day", "--direction", "long")
    code, out, _ = run(*add, "--entry", "20.3", "--stop", "19.7", "--target", "21.2",
                       "--confidence", "3", "--created-at", "2026-11-20T09:00Z")  # fmt: skip
    assert code == 0
    code, out, _ = run("signals", "show", "wsu.de-20261120-001")
    assert code == 0
    assert "entry 20.30  stop 19.70  target 21.20  (risk 0.60)" in out
    assert "market: decided by the next resolve run" in out
    assert "expires 2026-11-20 16:30 UTC" in out  # 17:30 Frankfurt: the .DE rule's XETR
    assert "outcome: PENDING" in out


@freeze_time("2026-11-20 15:00:00")
def test_list_finds_signals_and_cancel_records_who_and_why(ledger_env):
    for ticker in ("NVDA", "AMD"):
        code, _, _ = run("signals", "add", "--ticker", ticker, "--type", "day", "--direction",
                         "long", "--entry", "100", "--stop", "99", "--target", "103",
                         "--confidence", "2")  # fmt: skip
        assert code == 0
    code, out, _ = run("signals", "list", "--ticker", "amd", "--status", "pending")
    assert code == 0 and out.count("\n") == 1 and out.startswith("AMD-20261120-001")
    code, out, _ = run("signals", "cancel", "AMD-20261120-001", "--reason", "posted twice")
    assert (code, out) == (0, "cancelled AMD-20261120-001\n")
    code, out, _ = run("signals", "show", "AMD-20261120-001")
    assert "outcome: CANCELLED" in out and '"reason": "posted twice"' in out
    code, _, err = run("signals", "cancel", "AMD-20261120-001", "--reason", "again")
    assert code == 1 and "only a signal the rules have not settled" in err
    code, out, _ = run("signals", "list", "--status", "PENDING")
    assert [line.split()[0] for line in out.splitlines()] == ["NVDA-20261120-001"]


def test_options_that_are_not_signal_fields_are_named_as_options(ledger_env, tmp_path):
    code, _, err = run("resolve", "--as-of", "2026-13-01")
    assert code == 2 and err.startswith("error: --as-of:") and "invalid signal" not in err
    code, _, err = run("resolve", "--drill", "2m")
    assert (code, err.count("\n")) == (2, 1) and "--drill: 2m is not one of" in err
    code, _, err = run("signals", "export", "--out", str(tmp_path / "missing" / "x.csv"))
    assert (code, err.count("\n")) == (2, 1) and "--out: folder" in err


@freeze_time("2026-11-20 15:00:00")
def test_a_bad_signal_prints_one_line_naming_the_field(ledger_env):
    code, out, err = run(
        "signals",
        "add",
        "--ticker",
        "NVDA",
        "--type",
        "day",
        "--direction",
        "long",
        "--entry",
        "181.20",
        "--stop",
        "181.50",
        "--target",
        "184",
        "--confidence",
        "4",
    )
    assert code == 2 and out == ""
    assert err == "error: invalid signal: stop: stop 181.50 must be below entry 181.20 for a long\n"


ADD_NVDA = (
    "signals",
    "add",
    "--ticker",
    "NVDA",
    "--type",
    "day",
    "--direction",
    "long",
    "--entry",
    "181.20",
    "--stop",
    "179.90",
    "--target",
    "184",
    "--confidence",
    "4",
)


@freeze_time("2026-11-20 15:00:00")
@pytest.mark.parametrize("entry", ["1_81", "١٨١"])
def test_an_entry_python_would_read_as_181_is_refused(ledger_env, entry):
    code, out, err = run(*ADD_NVDA, "--entry", entry)
    assert (code, out) == (2, "")
    assert err.startswith("error: invalid signal: entry: ") and "is not a number" in err
    assert err.count("\n") == 1


@freeze_time("2026-11-20 15:00:00")
def test_an_argument_that_is_not_utf8_is_refused_naming_it(ledger_env):
    # Python hands over the byte 0x80 of an argument as the lone surrogate U+DC80.
    code, out, err = run(*ADD_NVDA, "--rationale", "bad\udc80byte")
    assert (code, out) == (2, "")
    assert err == "error: --rationale: is not UTF-8 text (it holds the byte 0x80)\n"


def test_an_argument_that_is_not_utf8_is_refused_by_every_command(ledger_env):
    code, _, err = run("signals", "show", "NVDA-\udcff")
    assert code == 2 and err == "error: trade_id: is not UTF-8 text (it holds the byte 0xFF)\n"


@freeze_time("2026-11-20 15:00:00")
def test_a_file_path_may_hold_bytes_that_are_not_utf8(ledger_env, tmp_path):
    path = tmp_path / "signals-\udc80.csv"  # the file name holds the byte 0x80
    path.write_text(
        "ticker,trade_type,direction,entry,stop,target,confidence,created_at\n"
        "AMD,swing,long,150,145,160,3,2026-11-19T15:00:00Z\n"
    )
    code, out, _ = run("signals", "import", str(path))
    assert code == 0 and out.startswith("imported 1 new signal from 1 row ")


@freeze_time("2026-11-20 15:00:00")
def test_an_edge_with_a_control_character_is_refused(ledger_env):
    code, _, err = run(*ADD_NVDA, "--edge", "VWAP\x1b[31m reclaim")
    assert code == 2
    assert err.startswith("error: invalid signal: edges: edge 'VWAP\\x1b[31m reclaim' contains")
    assert "\x1b" not in err


@pytest.mark.parametrize("ticker", ["../../etc/passwd", "ﬁx", "NV\x1bDA"])
def test_a_ticker_for_prices_is_held_to_the_rules_of_a_signals(ledger_env, ticker):
    code, out, err = run("prices", "export", ticker, "--interval", "1h")
    assert (code, out) == (2, "")
    assert err.startswith("error: invalid signal: ticker: ") and "\x1b" not in err


def test_an_unknown_trade_id_is_a_clean_error(ledger_env):
    code, _, err = run("signals", "show", "NOPE-1")
    assert code == 1 and err.startswith("error: no signal has trade_id") and "Traceback" not in err


def test_an_unreachable_database_is_a_clean_error(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none?connect_timeout=2")
    code, _, err = run("signals", "show", "X-1")
    assert code == 1
    assert err.startswith("error: cannot connect to none@127.0.0.1:9")
    assert "Traceback" not in err


def test_a_bad_setting_is_a_clean_error(monkeypatch):
    monkeypatch.setenv("EDGELEDGER_DB_POOL_SIZE", "many")
    code, _, err = run("db", "status")
    assert (code, err) == (1, "error: EDGELEDGER_DB_POOL_SIZE must be a whole number, got 'many'\n")


def test_db_upgrade_and_status(ledger_env):
    code, out, _ = run("db", "upgrade")
    assert code == 0 and out.strip().endswith("schema is up to date")
    code, out, _ = run("db", "status")
    assert code == 0 and "0001  0001_signal_ledger" in out and "applied" in out


@freeze_time("2026-11-20 15:00:00")
def test_db_upgrade_sums_up_the_days_the_analytics_read(ledger_env, tmp_path):
    book = tmp_path / "book.csv"
    book.write_text(
        "ticker,trade_type,direction,entry,stop,target,confidence,created_at\n"
        "AMD,swing,long,150,145,160,3,2026-11-18T15:00:00Z\n"
        "NVDA,swing,long,150,145,160,3,2026-11-19T15:00:00Z\n"
    )
    assert run("signals", "import", str(book))[0] == 0
    code, out, _ = run("db", "upgrade")
    assert code == 0 and "summed up 2 day(s) of trades for the analytics" in out
    code, out, _ = run("db", "upgrade")
    assert code == 0 and "summed up" not in out  # nothing changed since


@freeze_time("2026-11-20 15:00:00")
def test_import_reports_counts_and_a_bad_file_exits_non_zero(ledger_env, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text(
        "ticker,trade_type,direction,entry,stop,target,confidence,created_at\n"
        "AMD,swing,long,150,145,160,3,2026-11-19T15:00:00Z\n"
    )
    code, out, _ = run("signals", "import", str(good))
    assert code == 0 and out.startswith("imported 1 new signal from 1 row ")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "ticker,trade_type,direction,entry,stop,target,confidence,created_at\n"
        "AMD,swing,long,150,155,160,3,2026-11-19T15:00:00Z\n"
    )
    code, out, err = run("signals", "import", str(bad))
    assert code == 2 and out == ""
    assert "line 2: stop: stop 155 must be below entry 150 for a long" in err


@freeze_time("2026-11-20 15:00:00")
def test_the_import_summary_accounts_for_every_row(ledger_env, tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text(
        "ticker,trade_type,direction,entry,stop,target,confidence,created_at\n"
        "AMD,swing,long,150,145,160,3,2026-11-19T15:00:00Z\n"
        "AMD,swing,long,150,145,160,3,2026-11-19T15:00:00Z\n"
        "AMD,swing,long,150,155,160,3,2026-11-19T15:00:00Z\n"
    )
    code, out, err = run("signals", "import", str(path), "--skip-invalid")
    assert code == 0
    assert out == (
        "imported 1 new signal from 3 rows (0 already present, 1 repeated in the file,"
        " 1 invalid row skipped)\n"
    )
    assert "skipped line 4: stop" in err


@pytest.fixture
def csv_prices(monkeypatch, tmp_path):
    from tests.factories import write_bars

    folder = tmp_path / "prices"
    write_bars(
        folder,
        "1h",
        "AMD",
        [
            ("2026-11-19T20:30:00Z", 150.0, 150.4, 149.8, 150.1),
            ("2026-11-20T14:30:00Z", 150.1, 150.3, 144.9, 145.2),
            ("2026-11-20T15:30:00Z", 145.2, 146.0, 144.5, 145.5),
        ],
    )
    monkeypatch.setenv("EDGELEDGER_PRICE_PROVIDER", "csv")
    monkeypatch.setenv("EDGELEDGER_PRICE_DIR", str(folder))
    return folder


@freeze_time("2026-11-21 12:00:00")
def test_prices_fetch_stores_bars_and_export_prints_them(ledger_env, csv_prices):
    code, out, _ = run(
        "prices",
        "fetch",
        "amd",
        "--interval",
        "1h",
        "--start",
        "2026-11-19T00:00:00Z",
        "--end",
        "2026-11-21T00:00:00Z",
    )
    assert (code, out) == (0, "fetched 3 1h bars of AMD from csv; 3 new, 0 still forming\n")
    code, out, _ = run("prices", "export", "AMD", "--interval", "1h")
    assert out.splitlines() == [
        "timestamp,open,high,low,close,volume",
        "2026-11-19T20:30:00Z,150,150.4,149.8,150.1,1000",
        "2026-11-20T14:30:00Z,150.1,150.3,144.9,145.2,1000",
        "2026-11-20T15:30:00Z,145.2,146,144.5,145.5,1000",
    ]


@freeze_time("2026-11-21 12:00:00")
def test_resolve_and_verify_from_the_command_line(ledger_env, csv_prices, tmp_path):
    signals = tmp_path / "signals.csv"
    signals.write_text(
        "ticker,trade_type,direction,entry,stop,target,confidence,created_at\n"
        "AMD,swing,short,150,152,145,3,2026-11-20T14:00:00Z\n"
    )
    assert run("signals", "import", str(signals))[0] == 0
    code, out, _ = run("resolve", "--as-of", "2026-11-20T21:00:00Z", "--drill", "none")
    assert code == 0
    assert "1 closed, 1 price requests, 3 bars stored" in out
    assert "closed AMD-20261120-001 WIN 2.5R" in out
    code, out, _ = run("outcomes", "verify")
    assert (code, out) == (0, "verified 1 outcomes: 0 differences\n")


def test_a_bad_as_of_names_the_option(ledger_env):
    code, _, err = run("resolve", "--as-of", "yesterday")
    assert code == 2 and "--as-of: 'yesterday' is not an ISO 8601 time" in err


def test_the_schwab_login_prints_the_new_refresh_token_for_the_environment(monkeypatch, server):
    server.reply("/v1/oauth/token", json_body={"refresh_token": "new-refresh", "access_token": "a"})
    monkeypatch.setenv("EDGELEDGER_SCHWAB_URL", server.url)
    monkeypatch.setenv("EDGELEDGER_SCHWAB_APP_KEY", "app-key")
    monkeypatch.setenv("EDGELEDGER_SCHWAB_APP_SECRET", "app-secret")
    monkeypatch.setattr("sys.stdin", io.StringIO("https://127.0.0.1/?code=C0.x%40&session=s\n"))
    code, out, err = run("prices", "schwab-login", "--callback-url", "https://127.0.0.1")
    assert (code, out) == (0, "EDGELEDGER_SCHWAB_REFRESH_TOKEN=new-refresh\n")
    assert f"{server.url}/v1/oauth/authorize?client_id=app-key" in err
    assert "expires" in err and "log in again" in err
    assert "code=C0.x%40" in server.to("/v1/oauth/token")[0].body


def test_the_schwab_login_names_a_missing_credential(monkeypatch):
    monkeypatch.setenv("EDGELEDGER_SCHWAB_APP_KEY", "app-key")
    monkeypatch.delenv("EDGELEDGER_SCHWAB_APP_SECRET", raising=False)
    code, _, err = run(
        "prices", "schwab-login", "--callback-url", "https://127.0.0.1", "--redirected", "c"
    )
    assert code == 1
    assert err.startswith("error: EDGELEDGER_SCHWAB_APP_SECRET is not set")


def test_instruments_can_be_set_listed_and_cleared(ledger_env):
    code, out, _ = run("instruments", "set", "sap", "--market", "xetr")
    assert (code, out) == (0, "SAP trades on XETR\n")
    code, out, _ = run("instruments", "list")
    assert code == 0 and out.split()[:4] == ["SAP", "XETR", "set", "by"]
    code, _, err = run("instruments", "set", "SAP", "--market", "MARS")
    assert code == 2 and "--market: unknown market 'MARS'" in err
    code, out, _ = run("instruments", "clear", "SAP")
    assert code == 0 and "setting cleared" in out
    code, _, err = run("instruments", "clear", "SAP")
    assert code == 2 and "SAP has no market set by a person" in err


def test_a_file_that_cannot_be_read_at_all_is_not_called_invalid_rows(ledger_env, tmp_path):
    misspelt = tmp_path / "misspelt.csv"
    misspelt.write_text("tikcer,trade_type\nAAPL,day\n")
    for path in (misspelt, tmp_path / "missing.csv", tmp_path / "notes.txt"):
        code, _, err = run("signals", "import", str(path))
        assert code == 2 and err.startswith("error: the file cannot be imported; nothing")
        assert "of 0 rows" not in err


def test_a_broken_jsonl_line_says_where_it_breaks(ledger_env, tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_text('{"ticker": "AAPL", "rationale": "never closed')
    code, _, err = run("signals", "import", str(path))
    assert code == 2
    assert "line 1: row: is not valid JSON (Unterminated string starting at column 33)" in err
