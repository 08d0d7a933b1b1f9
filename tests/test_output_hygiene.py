"""What the CLI and the jobs print: no secret anywhere, one line per problem without --debug,
and a quiet exit when the reader of a pipe goes away."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import time

import psycopg
import pytest

from edgeledger.cli import main
from edgeledger.cli.base import EXIT_BROKEN_PIPE
from edgeledger.logs import POOL_LOGGER, configure_logging
from edgeledger.redaction import Redactor
from tests.factories import write_bars, yahoo_chart, yahoo_rows
from tests.fake_pg_proxy import database_behind_proxy
from tests.test_resolve_faults import (
    CHART,
    hourly,
    resolve_process,
    serve_prices,
    signals_file,
    yahoo_env,
)

BAD_URL = "postgres://user:PASSW0RDXYZ@[::1:1/db"
SECRETS = {
    "EDGELEDGER_POLYGON_API_KEY": "POLYGONKEY123",
    "EDGELEDGER_ALPACA_SECRET_KEY": "ALPACASECRET456",
    "EDGELEDGER_SCHWAB_APP_SECRET": "SCHWABSECRET789",
    "EDGELEDGER_SCHWAB_REFRESH_TOKEN": "REFRESHTOKEN000",
}


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def _restore_logging():
    """main() configures logging for the process; put the test runner's back after."""
    root, pool = logging.getLogger(), logging.getLogger(POOL_LOGGER)
    handlers, level = root.handlers[:], root.level
    filters, pool_level = pool.filters[:], pool.level
    yield
    root.handlers[:], root.level = handlers, level
    pool.filters[:], pool.level = filters, pool_level


def assert_no_secret(text: str) -> None:
    for secret in ["PASSW0RDXYZ", *SECRETS.values()]:
        assert secret not in text


# --- no secret in any output -------------------------------------------------------------------


@pytest.mark.parametrize("debug", [[], ["--debug"]], ids=["plain", "--debug"])
def test_a_malformed_database_url_is_one_line_without_its_password(monkeypatch, debug):
    monkeypatch.setenv("DATABASE_URL", BAD_URL)
    code, out, err = run(*debug, "db", "status")
    assert code == 1 and out == ""
    assert err.startswith("error: invalid database connection string")
    assert "postgres://user:***@" in err
    assert_no_secret(err)


@pytest.mark.parametrize("debug", [[], ["--debug"]], ids=["plain", "--debug"])
def test_secrets_in_an_unexpected_error_are_redacted_with_or_without_debug(monkeypatch, debug):
    """The error text and the --debug traceback both pass the redactor."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DATABASE_URL", "postgresql://ledger:PASSW0RDXYZ@db.example:5432/ledger")

    def leaky(args, ctx):
        raise RuntimeError(f"{' '.join(SECRETS.values())} on {ctx.settings.database_url}")

    monkeypatch.setattr("edgeledger.cli.db_commands.cmd_db_status", leaky)
    code, _, err = run(*debug, "db", "status")
    assert code == 70
    assert "RuntimeError" in err and "***" in err
    assert ("Traceback" in err) == bool(debug)
    assert_no_secret(err)


def test_log_lines_are_redacted_even_in_a_debug_traceback():
    stream = io.StringIO()
    redactor = Redactor.from_environ({"DATABASE_URL": BAD_URL, **SECRETS})
    configure_logging(level="INFO", stream=stream, redactor=redactor, debug=True)
    try:
        raise ValueError(f"bad {BAD_URL} key={SECRETS['EDGELEDGER_POLYGON_API_KEY']}")
    except ValueError:
        logging.getLogger("edgeledger.test").exception("token %s", "REFRESHTOKEN000")
    text = stream.getvalue()
    assert "Traceback" in text and "ValueError" in text
    assert_no_secret(text)


def test_a_url_password_is_redacted_even_when_it_is_not_configured():
    redactor = Redactor()
    assert redactor("cannot reach postgresql://u:hunter22@h/db") == (
        "cannot reach postgresql://u:***@h/db"
    )
    assert redactor("host=h password='a b' dbname=x") == "host=h password=*** dbname=x"


# --- one line per problem without --debug ------------------------------------------------------


def test_a_logged_exception_is_one_line_without_debug():
    stream = io.StringIO()
    configure_logging(level="INFO", stream=stream, redactor=Redactor(), debug=False)
    try:
        raise OSError("server closed the connection\n\tThis probably means ...")
    except OSError as exc:
        logging.getLogger("edgeledger.resolver").error("could not store bars", exc_info=exc)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].endswith("could not store bars: OSError: server closed the connection")


def test_the_connection_pool_says_it_once_in_one_line_without_debug():
    stream = io.StringIO()
    configure_logging(level="INFO", stream=stream, redactor=Redactor(), debug=False)
    pool = logging.getLogger(POOL_LOGGER)
    for _ in range(20):
        pool.warning(
            "error connecting in %r: %s",
            "edgeledger",
            "connection failed: Connection refused\n\tIs the server running on that host?",
        )
    pool.info("connection requested from 'edgeledger'")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert "Connection refused" in lines[0] and "--debug" in lines[0]


def test_a_ticker_the_database_refuses_is_one_line_without_debug(db_url, tmp_path):
    prices = tmp_path / "prices"
    # The cleaning rules drop prices the columns cannot hold, so a constraint of the test's
    # own makes the store refuse BIG's bars (psycopg's reason runs over two lines).
    write_bars(prices, "1h", "BIG", [("2026-11-20T15:30:00Z", 181.5, 182.0, 181.0, 181.8)])
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE price_bars ADD CONSTRAINT no_big CHECK (ticker <> 'BIG')")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("EDGELEDGER_")},
        "DATABASE_URL": db_url,
        "EDGELEDGER_PRICE_PROVIDER": "csv",
        "EDGELEDGER_PRICE_DIR": str(prices),
    }
    edgeledger = [sys.executable, "-m", "edgeledger"]
    subprocess.run(
        [
            *edgeledger, "signals", "add", "--ticker", "BIG", "--type", "swing",
            "--direction", "long", "--entry", "181.20", "--stop", "179.90", "--target", "184",
            "--confidence", "4", "--created-at", "2026-11-20T15:00:00Z",
        ],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    resolve = [*edgeledger, "resolve", "--as-of", "2026-11-21T00:00:00Z", "--drill", "none"]
    err = subprocess.run(resolve, env=env, capture_output=True, text=True).stderr
    assert "Traceback" not in err
    lines = err.splitlines()
    assert [line for line in lines if "could not store bars" in line] == lines
    assert len(lines) == 2  # the log line, and the run's report of the skipped ticker


# --- a reader that goes away ---------------------------------------------------------------------


class ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_pipe_ends_the_command_quietly(monkeypatch, db_url):
    monkeypatch.setenv("DATABASE_URL", db_url)
    err = io.StringIO()
    code = main(["db", "status"], out=ClosedPipe(), err=err)
    assert (code, err.getvalue()) == (EXIT_BROKEN_PIPE, "")


def test_export_into_a_pipe_closed_by_its_reader_exits_quietly(db_url, tmp_path):
    env = {**os.environ, "DATABASE_URL": db_url}
    command = [sys.executable, "-m", "edgeledger", "signals", "export"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # `| head -0`: the reader is gone before the first line
    _, err = process.communicate(timeout=60)
    assert err.decode() == ""
    assert process.returncode == EXIT_BROKEN_PIPE


@pytest.mark.slow
def test_losing_the_database_mid_run_prints_one_pool_line_and_the_error(db_url, server, tmp_path):
    tickers = [f"G{i:02d}" for i in range(6)]
    signals = str(signals_file(tmp_path, tickers))
    subprocess.run(
        [sys.executable, "-m", "edgeledger", "signals", "import", signals],
        env=yahoo_env(server, db_url), check=True, capture_output=True,
    )  # fmt: skip
    serve_prices(server, tickers)
    stuck = tickers[3]
    server.reset_path(CHART + stuck)
    server.reply(
        CHART + stuck, delay=3, json_body=yahoo_chart(stuck, "1h", yahoo_rows(hourly(103)))
    )
    with database_behind_proxy(db_url) as (proxied, proxy):
        run = resolve_process(yahoo_env(server, proxied) | {"EDGELEDGER_RESOLVE_GROUP": "1"})
        deadline = time.monotonic() + 60
        while not server.to(CHART + stuck) and time.monotonic() < deadline:
            time.sleep(0.05)
        proxy.go_away()
        _, err = run.communicate(timeout=120)
    assert run.returncode == 1
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len([line for line in lines if "psycopg.pool" in line]) <= 1
    assert lines[-1].startswith("error: ")
    assert len(lines) <= 3


def test_the_jobs_log_lines_are_redacted_and_one_line(monkeypatch, capsys):
    from jobs.resolve import configure_logging as configure_job_logging

    monkeypatch.setenv("DATABASE_URL", BAD_URL)
    monkeypatch.setenv("EDGELEDGER_POLYGON_API_KEY", SECRETS["EDGELEDGER_POLYGON_API_KEY"])
    monkeypatch.setenv("EDGELEDGER_LOG_LEVEL", "INFO")
    configure_job_logging()
    try:
        raise RuntimeError(f"{BAD_URL}\n{SECRETS['EDGELEDGER_POLYGON_API_KEY']}")
    except RuntimeError:
        logging.getLogger("jobs.scheduler").exception("resolve run failed")
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "resolve run failed: RuntimeError" in out
    assert_no_secret(out)


def test_a_webhook_url_and_its_token_are_masked_wherever_they_show():
    url = "https://discord.com/api/webhooks/1300000000000000001/Zx9-token_part.two"
    redactor = Redactor.from_environ({"DISCORD_REPORT_WEBHOOK_URL": url})
    assert redactor(f"POST {url}?wait=true failed") == "POST ***?wait=true failed"
    # urllib3's debug line names only the path: the token alone is masked there
    line = '"POST /api/webhooks/1300000000000000001/Zx9-token_part.two?wait=true HTTP/1.1" 200'
    assert "Zx9-token_part.two" not in redactor(line)
    # and a webhook URL nobody configured still loses its token
    assert Redactor()(url) == "https://discord.com/api/webhooks/1300000000000000001/***"
