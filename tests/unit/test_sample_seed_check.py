"""A package's signed sample seed, judged by evidence/sample_seed.py: each way a recorded seed
can fail to be the signer's signature of its own window — the window the check started in — is
named; other seeds are not judged."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from orchestrator.evidence.sample_seed import SEED_SIGNED, seed_problems, signed_seed

KEY = Ed25519PrivateKey.generate()
# 2026-11-30 opens a 28-day window counted from 2000-01-03; the check started inside it.
WINDOW = {
    "period_start": "2026-11-30",
    "period_days": 28,
    "period_epoch": "2000-01-03",
    "previous_evidence_sha256": "ab" * 32,
}
MESSAGE = "2026-11-30:" + "ab" * 32
STARTED = "2026-12-01T02:00:00Z"


def report(
    seed: str, started_at: str = STARTED, created_at: str | None = None, **derivation: Any
) -> dict[str, Any]:
    """A verify report.json as far as the seed's checks read it; its package written an hour
    after the check started unless created_at says otherwise."""
    recorded = {**WINDOW, "method": SEED_SIGNED, "message": MESSAGE, **derivation}
    plan = {"seed": seed, "seed_derivation": recorded}
    if created_at is None:
        try:
            start = datetime.fromisoformat(started_at.replace("Z", "+00:00"))
        except ValueError:
            start = datetime.fromisoformat(STARTED.replace("Z", "+00:00"))
        created_at = (start + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    return {
        "kind": "verify",
        "seed": seed,
        "started_at": started_at,
        "plan": plan,
        "package": {"created_at": created_at},
    }


def test_the_signers_signature_of_its_window_is_accepted() -> None:
    seed, recorded = signed_seed(KEY, MESSAGE)
    assert recorded == {
        "method": SEED_SIGNED,
        "message": MESSAGE,
        "signed_by": recorded["signed_by"],
    }
    assert seed_problems(report(seed), KEY.public_key()) == []
    # Planned in the window's last seconds, started in the first of the next (Asia/Shanghai).
    assert seed_problems(report(seed, "2026-12-27T16:00:30Z"), KEY.public_key()) == []


@pytest.mark.parametrize(
    ("started_at", "derivation", "expected"),
    [
        ("2027-01-10T00:00:00Z", {}, "outside its window"),
        ("2026-11-29T15:59:59Z", {}, "outside its window"),  # 23:59:59 the day before
        (STARTED, {"period_start": "2026-12-01"}, "is not a 28-day window"),
        (STARTED, {"period_start": "2026-11-29", "period_days": 1}, "1 days long, not 28"),
        (STARTED, {"period_start": "2000-01-03", "period_days": 10000}, "not 28"),
        (STARTED, {"period_epoch": "2000-01-04"}, "not counted from 2000-01-03"),
        (STARTED, {"period_days": "many"}, "cannot be read"),
        ("yesterday", {}, "cannot be read"),
    ],
)
def test_a_seed_signed_over_a_window_its_check_did_not_run_in_is_named(
    started_at: str, derivation: dict[str, Any], expected: str
) -> None:
    """A key holder signing the seed over another window's first day would pick among
    samples: the window must be the one the check started in, as the check computes it."""
    start = derivation.get("period_start", WINDOW["period_start"])
    message = f"{start}:{WINDOW['previous_evidence_sha256']}"
    seed, _ = signed_seed(KEY, message)
    recorded = report(seed, started_at, message=message, **derivation)
    problems = seed_problems(recorded, KEY.public_key())
    assert len(problems) == 1 and "signed over another window" in problems[0], problems
    assert expected in problems[0]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("another window's signature", "chosen, not drawn"),
        ("a seed typed by hand", "chosen, not drawn"),
        ("not hex", "chosen, not drawn"),
        ("another key", "chosen, not drawn"),
        ("the plan's seed differs", "chosen, not drawn"),
        ("message not the window", "is not its window"),
    ],
)
def test_a_seed_that_is_not_the_signature_of_its_window_is_named(case: str, expected: str) -> None:
    seed, _ = signed_seed(KEY, MESSAGE)
    recorded = report(seed)
    if case == "another window's signature":
        recorded = report(signed_seed(KEY, "2000-01-03:" + "0" * 64)[0])
    elif case == "a seed typed by hand":
        recorded = report("7")
    elif case == "not hex":
        recorded = report("zz" * 64)
    elif case == "another key":
        recorded = report(signed_seed(Ed25519PrivateKey.generate(), MESSAGE)[0])
    elif case == "the plan's seed differs":
        recorded["plan"]["seed"] = "7"
    else:
        recorded = report(seed, message="2000-01-03:" + "0" * 64)
    problems = seed_problems(recorded, KEY.public_key())
    assert len(problems) == 1 and expected in problems[0]


@pytest.mark.parametrize(
    "recorded",
    [
        {"kind": "drill"},
        {
            "kind": "verify",
            "seed": "7",
            "plan": {"seed": "7", "seed_derivation": {"method": "given on the command line"}},
        },
        {"kind": "verify", "plan": None},
        [],
    ],
)
def test_packages_without_a_signed_seed_are_not_judged_here(recorded: Any) -> None:
    assert seed_problems(recorded, KEY.public_key()) == []


@pytest.mark.parametrize(
    ("created_at", "expected"),
    [
        ("2026-12-01T01:59:59Z", "not within a window before its package was written"),
        ("2027-01-20T00:00:00Z", "not within a window before its package was written"),
        ("long ago", "cannot be read"),
    ],
)
def test_a_start_its_package_time_does_not_bound_is_named(created_at: str, expected: str) -> None:
    """A start moved into another window must still precede its own (signed, chained) package,
    by no more than a window."""
    seed, _ = signed_seed(KEY, MESSAGE)
    problems = seed_problems(report(seed, STARTED, created_at), KEY.public_key())
    assert len(problems) == 1 and expected in problems[0], problems


def counted(recorded: dict[str, Any], points: int = 3, required: int = 3) -> dict[str, Any]:
    """The report, recorded as a counted sample check judging `points` of `required`."""
    recorded["record"] = {
        "kind": "sample",
        "counted": True,
        "sample_points": points,
        "sample_bytes": 100,
    }
    recorded["plan"]["sample"] = {"required_points": required, "required_bytes": 100}
    return recorded


def test_a_counted_check_must_have_drawn_its_sample_and_met_its_bars() -> None:
    """A check recorded counted with a seed given by hand (or none), or judging fewer points
    than its plan's bars, contradicts itself; an honest counted one passes."""
    seed, _ = signed_seed(KEY, MESSAGE)
    assert seed_problems(counted(report(seed)), KEY.public_key()) == []
    given = counted(report("42", method="given on the command line"))
    assert "was not drawn" in " ".join(seed_problems(given, KEY.public_key()))
    unmethodical = counted(report("42"))
    del unmethodical["plan"]["seed_derivation"]
    assert "was not drawn" in " ".join(seed_problems(unmethodical, KEY.public_key()))
    short = counted(report(seed), points=2, required=3)
    assert "fewer points or bytes" in " ".join(seed_problems(short, KEY.public_key()))
