"""The colour of a treatment window's countdown on the referral page, by minutes left: amber an
hour before it closes (LKW + 3.5 h for thrombolysis, when the first alert goes out), red half an
hour before (LKW + 4 h), closed after, done once the treatment was given."""

from __future__ import annotations

import pytest

from services.referral.domain.window_states import WindowState, window_state

S = WindowState

# (minutes left, treatment given, expected state), written out by hand.
CASES = [
    (270, False, S.OPEN),  # thrombolysis at LKW
    (61, False, S.OPEN),
    (60, False, S.AMBER),  # LKW + 3.5 h
    (31, False, S.AMBER),
    (30, False, S.RED),  # LKW + 4 h
    (0, False, S.RED),  # the closing minute itself is still open
    (-1, False, S.CLOSED),
    (-600, False, S.CLOSED),
    (45, True, S.DONE),
    (-30, True, S.DONE),  # given, then the window passed: still done
]


@pytest.mark.parametrize(("minutes_left", "treated", "expected"), CASES)
def test_the_countdown_turns_amber_then_red_then_closed(
    minutes_left: int, treated: bool, expected: WindowState
) -> None:
    assert window_state(minutes_left, treated=treated) is expected
