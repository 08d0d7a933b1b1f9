"""With no DATABASE_URL, EdgeLedger runs on an embedded PostgreSQL under EDGELEDGER_DATA_DIR."""

from __future__ import annotations

import subprocess
import sys

from edgeledger import ledger, migrations
from edgeledger.core.validation import parse_signal
from edgeledger.database import Database
from edgeledger.settings import Settings
from tests.factories import raw_signal


def test_settings_fall_back_to_a_per_user_data_dir():
    settings = Settings.from_env({})
    assert settings.database_url is None
    assert "edgeledger" in str(settings.data_dir)


def test_the_embedded_server_starts_migrates_and_keeps_data(tmp_path, now):
    settings = Settings.from_env({"EDGELEDGER_DATA_DIR": str(tmp_path / "data")})
    with Database.from_settings(settings) as db:
        migrations.upgrade(db)
        ledger.log_signal(db, parse_signal(raw_signal(), now=now), actor="test", now=now)
    assert (tmp_path / "data" / "pgdata" / "PG_VERSION").exists()

    # Another process finds the same data (the server is shared, then stopped by its last user).
    script = (
        "from edgeledger.database import Database\n"
        "from edgeledger.settings import Settings\n"
        "with Database.from_settings(Settings.from_env()) as db, db.connection() as conn:\n"
        "    print(conn.execute('SELECT trade_id FROM trade_signals').fetchone()['trade_id'])\n"
    )
    env = {"EDGELEDGER_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "NVDA-20261120-001"
