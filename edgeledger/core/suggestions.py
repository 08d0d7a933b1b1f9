"""Suggested adjustments from excursions (MFE and MAE in R): where the stops and targets
left R behind, each with the numbers behind it.

They say only what the numbers support: nothing below SUGGESTION_MIN_N trades in the
population a suggestion reads, a fact when the figures are unremarkable, and a change to
test (never an instruction) only past a stated threshold. Excursions do not say in which
order the best and worst prices came, so no suggestion claims what a changed stop would
have earned: each names what to test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from edgeledger.core.trades import closed

SUGGESTION_MIN_N = 10
"""Trades a suggestion's population needs before it says anything."""

BREAK_EVEN_SHARE = 0.25
"""Share of losses first up 1R above which a break-even stop after +1R is worth testing."""

NEVER_IN_FAVOUR_R = 0.25
"""A loss whose MFE stayed below this never went in favour: the stop was hit at once."""

TARGET2_RARE, TARGET2_OFTEN = 0.20, 0.60
"""Shares of trades reaching target2 below which it looks too far, above which too near."""

RAN_PAST_MEDIAN = 0.5
"""Median R winners ran past their exit above which a trailing stop is worth testing."""

WINNER_HEAT_P90 = 0.5
"""If 90% of winners never went this far (in R) against the entry, the stop may be wider
than winners need."""


@dataclass(frozen=True)
class Suggestion:
    """One finding for people (`text`) and the figures behind it (`figures`, plain
    numbers); `kind` names the rule: losses_reached_1r, target2_reach, winners_ran_past,
    winners_heat."""

    kind: str
    text: str
    figures: dict[str, Any]


def excursion_suggestions(trades: pd.DataFrame) -> list[Suggestion]:
    """The suggestions the closed trades of `trades` support, in a fixed order."""
    # Only what the rules read: each rule's filter then copies six columns, not them all.
    done = closed(trades)[["status", "r", "mfe_r", "mae_r", "target2", "target2_hit"]]
    found = [
        _losses_reached_1r(done),
        _losses_never_in_favour(done),
        _target2_reach(done),
        _winners_ran_past(done),
        _winners_heat(done),
    ]
    return [s for s in found if s is not None]


def _losses_reached_1r(done: pd.DataFrame) -> Suggestion | None:
    mfe = done.loc[(done["status"] == "LOSS") & done["mfe_r"].notna(), "mfe_r"]
    if len(mfe) < SUGGESTION_MIN_N:
        return None
    reached = int((mfe >= 1.0).sum())
    share = reached / len(mfe)
    text = (
        f"{reached} of {len(mfe)} losses ({share:.1%}) were up 1R or more before they stopped out."
    )
    if share >= BREAK_EVEN_SHARE:
        text += " A stop moved to break-even after +1R is worth testing."
    return Suggestion(
        "losses_reached_1r", text, {"losses": len(mfe), "reached_1r": reached, "share": share}
    )


def _losses_never_in_favour(done: pd.DataFrame) -> Suggestion | None:
    """Stops hit before the trade ever worked: a fact about entries, so no advice."""
    mfe = done.loc[(done["status"] == "LOSS") & done["mfe_r"].notna(), "mfe_r"]
    if len(mfe) < SUGGESTION_MIN_N:
        return None
    never = int((mfe < NEVER_IN_FAVOUR_R).sum())
    share = never / len(mfe)
    text = (
        f"{never} of {len(mfe)} losses ({share:.1%}) never went {NEVER_IN_FAVOUR_R}R in "
        f"favour before the stop."
    )
    return Suggestion(
        "losses_never_in_favour",
        text,
        {
            "losses": len(mfe),
            "never_in_favour": never,
            "share": share,
            "below_r": NEVER_IN_FAVOUR_R,
        },
    )


def _target2_reach(done: pd.DataFrame) -> Suggestion | None:
    known = done[done["target2"].notna() & done["target2_hit"].notna()]
    if len(known) < SUGGESTION_MIN_N:
        return None
    hit = int(known["target2_hit"].astype(bool).sum())
    share = hit / len(known)
    text = f"Target 2 was reached on {hit} of {len(known)} trades that set one ({share:.1%})."
    if share < TARGET2_RARE:
        text += " It is rarely reached; a nearer second target is worth testing."
    elif share > TARGET2_OFTEN:
        text += " It is usually reached; a further second target is worth testing."
    return Suggestion(
        "target2_reach", text, {"trades": len(known), "target2_hit": hit, "share": share}
    )


def _winners_ran_past(done: pd.DataFrame) -> Suggestion | None:
    winners = done[(done["status"] == "WIN") & done["mfe_r"].notna()]
    if len(winners) < SUGGESTION_MIN_N:
        return None
    beyond = (winners["mfe_r"] - winners["r"]).clip(lower=0.0).to_numpy(dtype=float)
    median, mean = float(np.median(beyond)), float(beyond.mean())
    ran_1r = int((beyond >= 1.0).sum())
    text = (
        f"Winners ran a median {median:.2f}R past their exit (mean {mean:.2f}R); "
        f"{ran_1r} of {len(winners)} ran 1R or more further."
    )
    if median >= RAN_PAST_MEDIAN:
        text += " A trailing stop or a further target may capture more of the move."
    return Suggestion(
        "winners_ran_past",
        text,
        {"winners": len(winners), "median_r": median, "mean_r": mean, "ran_1r_more": ran_1r},
    )


def _winners_heat(done: pd.DataFrame) -> Suggestion | None:
    winners = done[(done["status"] == "WIN") & done["mae_r"].notna()]
    if len(winners) < SUGGESTION_MIN_N:
        return None
    heat = (-winners["mae_r"]).clip(lower=0.0).to_numpy(dtype=float)
    p90 = float(np.quantile(heat, 0.9))
    near_stop = int((heat >= 0.9).sum())
    text = (
        f"90% of winners went no more than {p90:.2f}R against the entry; "
        f"{near_stop} of {len(winners)} came within 0.1R of the stop."
    )
    if p90 < WINNER_HEAT_P90:
        text += (
            " The stop may be wider than winners need; a tighter one is worth testing "
            "(it would also stop out some trades sooner)."
        )
    return Suggestion(
        "winners_heat",
        text,
        {"winners": len(winners), "p90_heat_r": p90, "within_0_1r_of_stop": near_stop},
    )
