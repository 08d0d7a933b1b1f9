"""Property tests: whatever malformed signal arrives, it is refused with its field named,
and a file holding one writes nothing."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgeledger import importer
from edgeledger.core.validation import parse_signal
from edgeledger.errors import InvalidImport, InvalidSignal
from tests.factories import raw_signal

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)

not_a_number = st.one_of(
    st.sampled_from(["", "abc", "nan", "-inf", "Infinity", "1,5", "0x10", "--1", "1e999"]),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
)
non_positive = st.one_of(
    st.integers(max_value=0), st.decimals(max_value=0, allow_nan=False).map(str)
)
bad_price = st.one_of(not_a_number, non_positive)

BAD_VALUES = {
    "ticker": st.one_of(
        st.just(""),
        st.text(min_size=1).filter(
            lambda t: not t.strip().upper().replace(".", "").replace("-", "").isalnum()
        ),
        st.integers(),
    ),
    "trade_type": st.text().filter(lambda t: t.strip().lower() not in ("day", "swing")),
    "direction": st.text().filter(lambda t: t.strip().lower() not in ("long", "short")),
    "entry": bad_price,
    "stop": bad_price,
    "target": bad_price,
    "confidence": st.one_of(
        st.integers().filter(lambda n: not 0 <= n <= 5),
        st.sampled_from(["3.5", "five", "", "-0.5"]),
    ),
    "created_at": st.one_of(
        st.sampled_from(
            ["yesterday", "2026-13-01T00:00:00Z", "2026-11-20T14:35:00", "", "2099-01-01T00:00:00Z"]
        ),
        st.integers(),
    ),
    "expires_at": st.sampled_from(["2026-11-20T14:00:00Z", "soon", "2026-11-20"]),
    "edges": st.one_of(
        st.integers(), st.lists(st.integers(), min_size=1), st.just([{"no_name": 1}])
    ),
}


@given(field=st.sampled_from(sorted(BAD_VALUES)), data=st.data())
def test_a_malformed_field_is_refused_by_name(field, data):
    value = data.draw(BAD_VALUES[field], label=field)
    raw = raw_signal()
    raw[field] = value
    with pytest.raises(InvalidSignal) as caught:
        parse_signal(raw, now=NOW)
    named = {p.field for p in caught.value.problems}
    assert field in named or (field in ("entry", "stop", "target") and named & {"stop", "target"})


@given(
    entry=st.decimals(min_value="0.01", max_value="10000", places=2),
    stop=st.decimals(min_value="0.01", max_value="10000", places=2),
    target=st.decimals(min_value="0.01", max_value="10000", places=2),
    direction=st.sampled_from(["long", "short"]),
)
def test_levels_out_of_order_are_always_refused(entry, stop, target, direction):
    raw = raw_signal(
        entry=str(entry), stop=str(stop), target=str(target), target2=None, direction=direction
    )
    in_order = stop < entry < target if direction == "long" else target < entry < stop
    if in_order:
        assert parse_signal(raw, now=NOW).entry == entry
    else:
        with pytest.raises(InvalidSignal) as caught:
            parse_signal(raw, now=NOW)
        assert {p.field for p in caught.value.problems} <= {"stop", "target"}


def refused_as(field: str, text: str) -> bool:
    """Whether the validator refuses this text in this field (as it arrives from a CSV cell)."""
    try:
        parse_signal(raw_signal(**{field: text}), now=NOW)
    except InvalidSignal:
        return "\x00" not in text
    return False


COLUMNS = [
    "ticker",
    "trade_type",
    "direction",
    "entry",
    "stop",
    "target",
    "confidence",
    "edges",
    "created_at",
]


def csv_text(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in COLUMNS})
    return out.getvalue()


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    field=st.sampled_from([f for f in COLUMNS if f != "edges"]),
    data=st.data(),
    position=st.integers(min_value=0, max_value=3),
)
def test_a_file_with_one_bad_row_writes_nothing_and_names_it(
    db, sql_conn, tmp_path, field, data, position
):
    value = data.draw(
        BAD_VALUES[field].map(str).filter(lambda v: refused_as(field, v)), label=field
    )
    rows = [raw_signal(entry=f"18{i}.20", stop=f"17{i}.90", target=f"19{i}.00") for i in range(4)]
    for row in rows:
        row["edges"] = ";".join(row["edges"])
    rows[position][field] = value
    path = tmp_path / "signals.csv"
    path.write_text(csv_text(rows), newline="")
    before = sql_conn.execute("SELECT count(*) FROM trade_signals").fetchone()[0]
    with pytest.raises(InvalidImport) as caught:
        importer.import_file(db, path, now=NOW)
    lines = {p.line for p in caught.value.problems}
    assert lines == {position + 2}
    assert all(p.field for p in caught.value.problems)
    after = sql_conn.execute("SELECT count(*) FROM trade_signals").fetchone()[0]
    assert after == before == 0
