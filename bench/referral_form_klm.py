"""How long a clinician who has never seen the app needs to send a complete referral from a
phone: an estimate with the Keystroke-Level Model, not a usability study.

The path is the quickest the form allows for a complete referral (``QUICKEST_REFERRAL``: the
hospital number, last known well by a chip, two FAST signs, the NIHSS total, blood pressure,
glucose, anticoagulant, CT, suspected LVO, then send, with the recommended destination left as it
is). ``tests/browser/test_quickest_referral.py`` performs exactly these steps in Chromium at
390 px, checks the referral it sends is complete, and writes what it counted (taps, keys,
screens of the form) to ``tests/browser/artifacts/quickest-referral.json``; this script turns
those counts into seconds and writes ``bench/results/referral-form-klm.json``.

Operators and times are Card, Moran & Newell's (S. K. Card, T. P. Moran, A. Newell, "The
keystroke-level model for user performance time with interactive systems", Communications of
the ACM 23(7):396-410, 1980):
- P, pointing at a target (1.1 s), plus B, pressing it (0.1 s): one tap on the screen;
- K, one keystroke: 0.28 s for an average non-secretary typist, 0.50 s for typing random
  letters (our central value: a phone's on-screen keys, digits and codes), 1.20 s for the worst
  typist, unfamiliar with the keyboard;
- M, mental preparation (1.35 s): before each step (finding the field, deciding what to put),
  once more to read the recommendation before sending, and once per further screen of the form
  (the eyes find where they are after scrolling);
- a swipe to the next screen counted as one P (1.1 s).
The model leaves out the system's response time (the form answers locally; the preview comes
while the nurse types) and assumes no errors. It is a model of a practised path, read with care
for a newcomer; the M before every step is what stands for not knowing the form.

Usage: python -m bench.referral_form_klm
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from tests.browser.accessibility import ARTIFACTS
from tests.support import ROOT

POINT_S = 1.1
PRESS_S = 0.1
MENTAL_S = 1.35
KEYSTROKE_S = {"average typist": 0.28, "random letters": 0.50, "worst typist": 1.20}
CENTRAL = "random letters"
A_MINUTE_S = 60.0

COUNTS = ARTIFACTS / "quickest-referral.json"
RESULT = ROOT / "bench" / "results" / "referral-form-klm.json"


@dataclass(frozen=True)
class Step:
    """One step of the quickest path: tap ``target`` (a CSS selector), then type ``keys``."""

    what: str
    target: str
    keys: str = ""
    kind: Literal["field", "choice", "send"] = "choice"


QUICKEST_REFERRAL = (
    Step("hospital number", "#hn", "6501234", "field"),
    Step("last known well: 30 minutes ago", "button[data-lkw-minutes='30']"),
    Step("FAST: face", "input[name=fast][value=face]"),
    Step("FAST: arm", "input[name=fast][value=arm]"),
    Step("NIHSS total", "#nihss", "11", "field"),
    Step("systolic blood pressure", "#systolic", "176", "field"),
    Step("diastolic blood pressure", "#diastolic", "98", "field"),
    Step("glucose", "#glucose", "131", "field"),
    Step("anticoagulant: no", "input[name=anticoagulant][value=no]"),
    Step("head CT: no hemorrhage", "input[name=ct][value=no-hemorrhage]"),
    Step("suspected LVO", "input[name=lvo]"),
    Step("send", "button.send", kind="send"),
)


@dataclass(frozen=True)
class Counted:
    """What the browser test counted on the real page."""

    taps: int
    keystrokes: int
    screens: int  # viewport heights from the top of the form to the send button


def estimate_s(counted: Counted, keystroke_s: float) -> float:
    taps = counted.taps * (POINT_S + PRESS_S)
    keys = counted.keystrokes * keystroke_s
    swipes = max(counted.screens - 1, 0)
    mental = (counted.taps + 1 + swipes) * MENTAL_S
    return taps + keys + swipes * POINT_S + mental


def main() -> int:
    if not COUNTS.exists():
        print(f"{COUNTS} is missing: run tests/browser/test_quickest_referral.py first")
        return 1
    counted = Counted(**json.loads(COUNTS.read_text(encoding="utf-8")))
    figures = {name: round(estimate_s(counted, k), 1) for name, k in KEYSTROKE_S.items()}
    central = figures[CENTRAL]
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(
        json.dumps(
            {
                "what": "Keystroke-Level Model estimate of a complete referral on a 390 px phone",
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "counted": counted.__dict__,
                "seconds_by_keystroke_time": figures,
                "estimate_s": central,
                "under_a_minute": central < A_MINUTE_S,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(
        f"{counted.taps} taps, {counted.keystrokes} keys, {counted.screens} screens: "
        f"about {central:.0f} s (K {KEYSTROKE_S[CENTRAL]} s; "
        + ", ".join(f"{v:.0f} s with K {KEYSTROKE_S[n]} s" for n, v in figures.items())
        + f"). An estimate (Card, Moran & Newell's KLM), not a usability study. -> {RESULT}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
