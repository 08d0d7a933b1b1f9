"""Posting the weekly report: the message Discord receives, once per week, and what a run
does when Discord rate limits it, refuses it as too large, or no longer knows the webhook.

Against a local server that answers like Discord (tests/fake_discord.py) and a real
PostgreSQL; nothing leaves the machine.
"""

from __future__ import annotations

import io
import socket
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import requests
from freezegun import freeze_time

from edgeledger import discord_webhook, report_posting, reporting, storage
from edgeledger.cli import main
from edgeledger.errors import ReportPostBusy, ReportPostFailed, ReportTooLarge, WebhookGone
from tests.fake_discord import TOKEN, WEBHOOK_ID, FakeDiscord, recorded, serving

ROOT = Path(__file__).resolve().parent.parent
MONDAY = date(2026, 11, 16)
NOW = datetime(2026, 11, 22, 22, 0, tzinfo=UTC)  # Sunday evening: the week just ended


@pytest.fixture
def discord():
    with serving() as fake:
        yield fake


@pytest.fixture
def session():
    with requests.Session() as s:
        yield s


class Sleeps(list):
    """Records the waits asked for instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def post(db, discord, session, *, now=NOW, url=None, sleep=None):
    return report_posting.post_weekly(
        db,
        MONDAY,
        url or discord.webhook_url,
        session=session,
        now=now,
        sleep=Sleeps() if sleep is None else sleep,
    )


def stored(db) -> dict:
    with db.connection() as conn:
        return storage.report_post_state(conn, MONDAY)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


# --- the message -------------------------------------------------------------------------


def test_the_post_is_one_multipart_message_with_the_summary_the_chart_and_the_html(
    db, discord, session
):
    built = reporting.build_weekly(db, MONDAY, now=NOW)
    result = post(db, discord, session)
    [request] = discord.received
    assert request.path == f"/api/webhooks/{WEBHOOK_ID}/{TOKEN}"
    assert request.query == {"wait": "true"}
    assert request.content_type.startswith("multipart/form-data")
    assert list(request.parts) == ["payload_json", "files[0]", "files[1]"]
    payload = request.payload
    assert request.parts["payload_json"].content_type == "application/json"
    assert payload["allowed_mentions"] == {"parse": []}
    [embed] = payload["embeds"]
    assert embed["title"].startswith("Weekly report · ")
    assert embed["image"] == {"url": "attachment://equity.png"}
    assert payload["attachments"] == [
        {"id": 0, "filename": "equity.png"},
        {"id": 1, "filename": "edgeledger-weekly-2026-11-16.html"},
    ]
    png, html = request.parts["files[0]"], request.parts["files[1]"]
    assert (png.filename, png.content_type) == ("equity.png", "image/png")
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert (html.filename, html.content_type) == ("edgeledger-weekly-2026-11-16.html", "text/html")
    assert html.content.decode() == built.html  # the stored report, not a new one
    assert (result.already, result.built, result.left_out) == (False, False, ())
    row = stored(db)
    assert row["posted_at"] == NOW and row["post_message_id"] == result.message_id
    assert (row["posted_revision"], row["post_attempts"], row["post_error"]) == (1, 1, None)
    assert row["post_claimed_at"] is None


def test_the_embed_is_drawn_from_the_stored_report_data(monkeypatch, db_url, discord):
    """A real week: the figures of the embed are those `report weekly` stored."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("EDGELEDGER_PRICE_PROVIDER", "csv")
    monkeypatch.setenv("EDGELEDGER_PRICE_DIR", str(ROOT / "examples" / "prices"))
    monkeypatch.setenv("DISCORD_REPORT_WEBHOOK_URL", discord.webhook_url)
    with freeze_time("2026-11-22 12:00:00"):
        assert run("signals", "import", str(ROOT / "examples" / "signals.csv"))[0] == 0
        assert run("resolve", "--as-of", "2026-11-21T00:00:00Z")[0] == 0
    with freeze_time("2026-11-22 22:00:00"):
        code, out, err = run("report", "weekly", "--post")
    assert code == 0, err
    assert out.startswith("weekly report for 2026-11-16 (revision 1) posted to Discord")
    assert "built first" in out
    [embed] = discord.received[0].payload["embeds"]
    assert "**+1.72R**" in embed["description"] and "win rate 50.0%" in embed["description"]
    html = discord.received[0].parts["files[1]"].content.decode()
    assert "+1.72R" in html


def test_a_week_not_stored_yet_is_built_before_it_is_posted(db, discord, session):
    assert stored(db) is None
    result = post(db, discord, session)
    assert result.built and stored(db)["posted_at"] == NOW
    assert len(discord.received) == 1


# --- once --------------------------------------------------------------------------------


def test_a_posted_week_is_not_posted_again(db, discord, session):
    first = post(db, discord, session)
    again = post(db, discord, session, now=NOW + timedelta(hours=1))
    assert len(discord.received) == 1
    assert again.already and again.message_id == first.message_id
    assert again.posted_at == NOW


def test_a_rebuilt_week_that_was_posted_is_not_posted_again(db, discord, session):
    post(db, discord, session)
    reporting.build_weekly(db, MONDAY, now=NOW + timedelta(minutes=5))  # revision 2
    again = post(db, discord, session, now=NOW + timedelta(minutes=10))
    assert again.already and again.revision == 1 and len(discord.received) == 1


def test_two_runs_at_once_post_once(db, discord, session):
    reporting.build_weekly(db, MONDAY, now=NOW)
    discord.delay = 0.5  # the first run is still posting when the second claims
    results, errors = [], []
    start = threading.Barrier(2)

    def one_run() -> None:
        with requests.Session() as own:
            start.wait()
            try:
                results.append(post(db, discord, own))
            except ReportPostFailed as exc:
                errors.append(exc)

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(discord.received) == 1
    assert len(results) + len(errors) == 2 and len(results) >= 1
    assert all(isinstance(e, ReportPostBusy) for e in errors)
    assert all("being posted by another run" in str(e) for e in errors)
    assert stored(db)["post_attempts"] == 1


def test_only_one_of_two_claims_is_granted(db):
    reporting.build_weekly(db, MONDAY, now=NOW)
    with db.connection() as a, db.connection() as b:
        stale = NOW - report_posting.CLAIM_LEASE
        first = storage.claim_report_post(a, MONDAY, now=NOW, stale_before=stale)
        a.commit()
        second = storage.claim_report_post(b, MONDAY, now=NOW, stale_before=stale)
    assert first is not None and second is None


def test_a_claim_left_by_a_run_that_died_is_taken_over_after_the_lease(db, discord, session):
    reporting.build_weekly(db, MONDAY, now=NOW)
    with db.connection() as conn:
        stale = NOW - report_posting.CLAIM_LEASE
        assert storage.claim_report_post(conn, MONDAY, now=NOW, stale_before=stale)
    with pytest.raises(ReportPostBusy):
        post(db, discord, session, now=NOW + timedelta(minutes=5))
    later = NOW + report_posting.CLAIM_LEASE + timedelta(seconds=1)
    result = post(db, discord, session, now=later)
    assert not result.already and len(discord.received) == 1


def test_the_lease_outlasts_the_longest_post_a_run_can_make():
    assert report_posting.CLAIM_LEASE > report_posting.LONGEST_POST


# --- rate limits -------------------------------------------------------------------------


def test_a_429_waits_the_retry_after_of_its_body_and_retries(db, discord, session):
    answer = recorded("discord_429_user_ratelimit.json")
    discord.then(429, {**answer["body"], "retry_after": 0.25}, answer["headers"])
    discord.then(429, {**answer["body"], "retry_after": 1.5}, answer["headers"])
    sleeps = Sleeps()
    result = post(db, discord, session, sleep=sleeps)
    assert sleeps == [0.25, 1.5]  # the body's float seconds, not the header's 65
    assert len(discord.received) == 3 and result.message_id
    assert stored(db)["posted_at"] == NOW


def test_a_429_without_retry_after_in_its_body_waits_the_header(db, discord, session):
    discord.then(429, {"message": "You are being rate limited."}, {"Retry-After": "2"})
    sleeps = Sleeps()
    post(db, discord, session, sleep=sleeps)
    assert sleeps == [2.0] and len(discord.received) == 2


def test_rate_limited_on_every_attempt_the_run_fails_and_the_next_one_posts(db, discord, session):
    answer = recorded("discord_429_user_ratelimit.json")
    for _ in range(discord_webhook.MAX_ATTEMPTS):
        discord.then(429, {**answer["body"], "retry_after": 0.1}, answer["headers"])
    sleeps = Sleeps()
    with pytest.raises(ReportPostFailed, match="rate limited the webhook 4 times"):
        post(db, discord, session, sleep=sleeps)
    assert len(sleeps) == discord_webhook.MAX_ATTEMPTS - 1
    result = post(db, discord, session, now=NOW + timedelta(hours=1))
    assert result.attempts == 2 and stored(db)["post_error"] is None


def test_a_wait_longer_than_the_cap_fails_at_once_and_leaves_the_post_for_the_next_run(
    db, discord, session
):
    answer = recorded("discord_429_global_ratelimit.json")  # retry_after 64.57
    discord.then(answer["status"], answer["body"], answer["headers"])
    sleeps = Sleeps()
    with pytest.raises(ReportPostFailed, match="for 65 s"):
        post(db, discord, session, sleep=sleeps)
    assert sleeps == [] and len(discord.received) == 1
    row = stored(db)
    assert row["posted_at"] is None and row["post_claimed_at"] is None
    assert "rate limiting" in row["post_error"] and row["post_attempts"] == 1
    result = post(db, discord, session, now=NOW + timedelta(hours=1))
    assert not result.already and result.attempts == 2
    assert stored(db)["post_error"] is None


# --- too large ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 413])
def test_a_message_too_large_is_sent_again_without_the_html(db, discord, session, status):
    built = reporting.build_weekly(db, MONDAY, now=NOW)
    discord.max_file_bytes = len(built.html.encode()) - 1  # the HTML alone is too big
    discord.too_large_status = status
    result = post(db, discord, session)
    assert result.left_out == ("html",)
    first, second = discord.received
    assert "files[1]" in first.parts
    assert list(second.parts) == ["payload_json", "files[0]"]
    assert second.payload["attachments"] == [{"id": 0, "filename": "equity.png"}]
    assert second.payload["embeds"][0]["image"] == {"url": "attachment://equity.png"}


def test_still_too_large_without_the_html_it_is_sent_without_the_image(db, discord, session):
    discord.max_file_bytes = 10  # no file fits
    result = post(db, discord, session)
    assert result.left_out == ("html", "png")
    last = discord.received[-1]
    assert list(last.parts) == ["payload_json"]
    assert last.payload["attachments"] == [] and "image" not in last.payload["embeds"][0]
    assert stored(db)["posted_at"] == NOW


def test_a_recorded_invalid_form_body_about_size_counts_as_too_large(db, discord, session):
    answer = recorded("discord_400_invalid_form_body_request_error.json")
    discord.then(answer["status"], answer["body"])
    result = post(db, discord, session)
    assert result.left_out == ("html",) and len(discord.received) == 2


def test_too_large_even_as_the_bare_summary_is_a_clear_failure(db, discord, session):
    for _ in range(3):
        discord.then(400, {"message": "Request entity too large", "code": 40005})
    with pytest.raises(ReportTooLarge, match=r"too large .* even without the HTML file"):
        post(db, discord, session)
    assert stored(db)["posted_at"] is None


# --- other failures ----------------------------------------------------------------------


def test_a_webhook_that_is_gone_is_a_clear_error(db, discord, session):
    gone = discord.webhook_url.replace(WEBHOOK_ID, "1300000000000000999")
    with pytest.raises(WebhookGone, match=r"does not exist .*404: Unknown Webhook, code 10015"):
        post(db, discord, session, url=gone)
    assert "DISCORD_REPORT_WEBHOOK_URL" in stored(db)["post_error"]


def test_a_request_that_times_out_fails_without_naming_the_url(db, discord, session):
    reporting.build_weekly(db, MONDAY, now=NOW)
    discord.delay = 1.0
    with pytest.raises(ReportPostFailed) as caught:
        discord_webhook.execute(session, discord.webhook_url, {"content": "x"}, timeout=(1, 0.2))
    assert "ReadTimeout" in str(caught.value) and TOKEN not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_every_request_has_a_connect_and_a_read_timeout(db, discord):
    seen = []

    class Recording(requests.Session):
        def post(self, url, **kwargs):
            seen.append(kwargs["timeout"])
            return super().post(url, **kwargs)

    with Recording() as recording:
        post(db, discord, recording)
    assert seen == [discord_webhook.TIMEOUT]
    assert all(t > 0 for t in discord_webhook.TIMEOUT)


# --- the command -------------------------------------------------------------------------


@pytest.fixture
def cli_env(monkeypatch, db_url, discord: FakeDiscord):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("DISCORD_REPORT_WEBHOOK_URL", discord.webhook_url)
    return discord


def test_post_twice_posts_once_and_says_so(cli_env):
    with freeze_time("2026-11-22 22:00:00"):
        first = run("report", "weekly", "--post")
        second = run("report", "weekly", "--post")
    assert first[0] == 0 and "posted to Discord (message" in first[1]
    assert second[0] == 0 and "was already posted at 2026-11-22 22:00Z" in second[1]
    assert "not posted again" in second[1] and len(cli_env.received) == 1


def test_a_failed_post_exits_non_zero_and_the_next_run_posts(cli_env):
    cli_env.then(500, {"message": "Internal Server Error"})
    with freeze_time("2026-11-22 22:00:00"):
        code, out, err = run("report", "weekly", "--post")
    assert code == 1 and out == ""
    assert err == "error: Discord answered 500: Internal Server Error\n"
    with freeze_time("2026-11-22 23:00:00"):
        code, out, _ = run("report", "weekly", "--post")
    assert code == 0 and "posted to Discord" in out and len(cli_env.received) == 2


def test_post_with_out_is_refused_before_anything_is_sent(cli_env):
    code, _, err = run("report", "weekly", "--post", "--out", "week.html")
    assert code == 2 and err.startswith("error: --out: not with --post")
    assert cli_env.received == []


def test_post_without_the_setting_fails_naming_it(monkeypatch, db_url):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("DISCORD_REPORT_WEBHOOK_URL", raising=False)
    code, out, err = run("report", "weekly", "--post")
    assert code == 1 and out == ""
    assert err.startswith("error: DISCORD_REPORT_WEBHOOK_URL is not set: --post needs")
    assert err.count("\n") == 1


@pytest.mark.parametrize("debug", [False, True])
def test_the_webhook_token_never_shows_in_output_or_logs(cli_env, debug, capsys):
    """Gone, unreachable, posted: whatever happens, the token is in no line written."""
    flags = ["--debug"] if debug else []
    outputs = []
    with freeze_time("2026-11-22 22:00:00"):
        cli_env.then(404, {"message": "Unknown Webhook", "code": 10015})
        outputs.append(run(*flags, "report", "weekly", "--post"))
        cli_env.then(400, {"message": f"bad {cli_env.webhook_url}", "code": 50006})
        outputs.append(run(*flags, "report", "weekly", "--post"))
        with socket.socket() as closed:  # a port nobody listens on
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv(
                "DISCORD_REPORT_WEBHOOK_URL", f"http://127.0.0.1:{port}/api/webhooks/1/{TOKEN}"
            )
            outputs.append(run(*flags, "report", "weekly", "--post"))
        outputs.append(run(*flags, "report", "weekly", "--post"))
    codes = [code for code, _, _ in outputs]
    assert codes == [1, 1, 1, 0]
    assert "webhook of DISCORD_REPORT_WEBHOOK_URL does not exist" in outputs[0][2]
    assert "could not connect to Discord" in outputs[2][2]
    captured = capsys.readouterr()
    written = "".join(out + err for _, out, err in outputs) + captured.out + captured.err
    assert TOKEN not in written and "T0ken" not in written


def test_the_posts_error_is_kept_without_the_token(cli_env, sql_conn):
    cli_env.then(400, {"message": f"bad {cli_env.webhook_url}", "code": 50006})
    with freeze_time("2026-11-22 22:00:00"):
        assert run("report", "weekly", "--post")[0] == 1
    error = sql_conn.execute("SELECT post_error FROM weekly_reports").fetchone()[0]
    assert error.startswith("Discord answered 400: bad ") and TOKEN not in error


def test_the_help_of_report_weekly_shows_post_with_an_example(capsys):
    with pytest.raises(SystemExit):
        run("report", "weekly", "--help")
    text = capsys.readouterr().out
    assert "--post" in text and "DISCORD_REPORT_WEBHOOK_URL" in text
    assert "edgeledger report weekly --post" in text


def test_with_a_public_url_the_post_links_to_the_full_report_by_a_signed_link(cli_env, monkeypatch):
    monkeypatch.setenv("EDGELEDGER_PUBLIC_URL", "https://dash.example/")
    monkeypatch.setenv("EDGELEDGER_DASHBOARD_TOKEN", "dash-token")
    with freeze_time("2026-11-22 22:00:00"):
        code, out, _ = run("report", "weekly", "--post")
    assert code == 0
    [embed] = cli_env.received[0].payload["embeds"]
    assert embed["url"].startswith("https://dash.example/reports/2026-11-16?exp=")
    assert "&sig=" in embed["url"] and "dash-token" not in embed["url"]
    assert embed["fields"][0] == {
        "name": "Full report",
        "value": f"[Open the full report]({embed['url']})",
        "inline": False,
    }
    assert "dash-token" not in out


def test_without_a_public_url_the_post_has_no_link(cli_env):
    with freeze_time("2026-11-22 22:00:00"):
        run("report", "weekly", "--post")
    [embed] = cli_env.received[0].payload["embeds"]
    assert "url" not in embed and embed["fields"][0]["name"] != "Full report"
