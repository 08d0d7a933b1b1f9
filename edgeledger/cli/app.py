"""The `edgeledger` command: parse arguments, call the core, print the result.

Settings are read here, once; the clock is read here, once per command. Errors the user can
act on print one line (`error: ...`) and exit non-zero; `--debug` shows tracebacks.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import suppress
from typing import Any, TextIO

from edgeledger import __version__
from edgeledger.cli import (
    analytics_commands,
    db_commands,
    demo_command,
    discord_commands,
    instrument_commands,
    outcome_commands,
    price_commands,
    service_commands,
    signal_commands,
)
from edgeledger.cli.base import (
    EXIT_BAD_INPUT,
    EXIT_BROKEN_PIPE,
    EXIT_ERROR,
    EXIT_UNEXPECTED,
    Context,
    examples,
)
from edgeledger.clock import utc_now
from edgeledger.errors import EdgeLedgerError, InvalidImport, InvalidOption, InvalidSignal
from edgeledger.logs import configure_logging, one_line
from edgeledger.redaction import RedactingStream, Redactor
from edgeledger.settings import Settings

log = logging.getLogger("edgeledger")


# --- the parser --------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edgeledger",
        description="Log trade signals, settle them against price bars, learn which edges work.",
        epilog=examples(
            "edgeledger db upgrade",
            "edgeledger signals import signals.csv",
            "edgeledger signals export --format jsonl --out signals.jsonl",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"edgeledger {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    groups = parser.add_subparsers(dest="group", required=True, metavar="COMMAND")

    for register in (
        db_commands.register,
        signal_commands.register,
        instrument_commands.register,
        price_commands.register,
        outcome_commands.register,
        analytics_commands.register,
        service_commands.register,
        demo_command.register,
        discord_commands.register,
    ):
        register(groups)
    return parser


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    out = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    if problem := undecodable_argument(parser, args):
        print(f"error: {problem}", file=err)
        return EXIT_BAD_INPUT
    environ = dict(os.environ)
    # Everything on stderr (errors, logs, --debug tracebacks) passes the redactor.
    redactor = Redactor.from_environ(environ)
    err = RedactingStream(err or sys.stderr, redactor)
    try:
        settings = Settings.from_env(environ)
    except EdgeLedgerError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_ERROR
    configure_logging(level=settings.log_level, stream=err, redactor=redactor, debug=args.debug)
    ctx = Context(settings=settings, environ=environ, now=utc_now(), out=out, err=err)
    try:
        code = args.func(args, ctx)
        out.flush()  # a closed pipe shows here, not at exit
        return code
    except BrokenPipeError:
        return _reader_went_away(out)
    except (InvalidSignal, InvalidImport, InvalidOption) as exc:
        print(f"error: {exc}", file=err)
        return EXIT_BAD_INPUT
    except EdgeLedgerError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=err)
        return 130
    except Exception as exc:
        if args.debug:
            traceback.print_exc(file=err)
            return EXIT_UNEXPECTED
        log.debug("unexpected failure", exc_info=True)
        print(f"error: unexpected {one_line(exc)} (rerun with --debug)", file=err)
        return EXIT_UNEXPECTED
    finally:
        ctx.close()


def undecodable_argument(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str | None:
    """The first text argument that is not UTF-8, named, or None.

    Python hands each byte of an argument that is not UTF-8 over as a lone surrogate
    (U+DC80-U+DCFF), which no database or terminal takes: refused here, before any command
    runs, rather than failing somewhere inside one. Paths (type=Path) may hold any bytes.
    """
    for action in _chosen_actions(parser, args):
        values = getattr(args, action.dest, None)
        for value in values if isinstance(values, list) else [values]:
            if isinstance(value, str) and (found := _SURROGATE.search(value)):
                name = action.option_strings[0] if action.option_strings else action.dest
                code = ord(found.group())
                if code >= 0xDC80:
                    return f"{name}: is not UTF-8 text (it holds the byte 0x{code - 0xDC00:02X})"
                return f"{name}: is not valid Unicode (it holds the lone surrogate U+{code:04X})"
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")


def _chosen_actions(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Iterator[Any]:
    """The arguments of the command args were parsed for, through its command groups."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            chosen = getattr(args, action.dest, None)
            if chosen in action.choices:
                yield from _chosen_actions(action.choices[chosen], args)
        else:
            yield action


def _reader_went_away(out: TextIO) -> int:
    """`edgeledger ... | head -1`: the reader closed the pipe. Stop quietly with the status
    of a process ended by SIGPIPE, as Unix tools do; output still buffered is dropped
    rather than fail again at exit."""
    with suppress(OSError, ValueError, AttributeError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
    return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
