"""`python -m jobs.scheduler`: the old Procfile entry, kept working by becoming `edgeledger run`.

The long-running process is now `edgeledger run` (edgeledger.service): the HTTP server, the
scheduled jobs of jobs.schedule and the bot's place, on one loop. This module replaces itself
with that command (exec), so a deployment that still starts it runs the same service.
"""

from __future__ import annotations

import os
import sys


def command() -> list[str]:
    return [sys.executable, "-m", "edgeledger", "run"]


def main() -> int:
    os.execv(sys.executable, command())
    return 0  # not reached: execv replaces the process


if __name__ == "__main__":
    sys.exit(main())
