"""The CLI's one error boundary: the error tree → exit codes, one line, the JSON envelope."""

from __future__ import annotations

import errno
import json
import logging

import pytest

from orchestrator.cli.boundary import classify, report
from orchestrator.cli.output import Output
from orchestrator.errors import (
    CalendarDataMissing,
    CheckFailed,
    InfrastructureError,
    InputError,
    JobBusy,
)


@pytest.mark.parametrize(
    ("error", "code", "kind"),
    [
        (InputError("dr.yml", ["sites: required key is missing"]), 2, "usage"),
        (CalendarDataMissing(2031), 2, "usage"),
        (CheckFailed("digest mismatch"), 1, "check_failed"),
        (InfrastructureError("host down"), 3, "infrastructure"),
        (JobBusy("backup x is already running"), 3, "infrastructure"),
        (OSError(28, "No space left on device", "/srv/store"), 3, "infrastructure"),
        (OSError(errno.ENAMETOOLONG, "File name too long", "/a" * 3000), 2, "usage"),
        (KeyboardInterrupt(), 130, "interrupted"),
        (RuntimeError("boom"), 3, "internal"),
    ],
)
def test_classify_maps_the_error_tree_to_the_contract(
    error: BaseException, code: int, kind: str
) -> None:
    failure = classify(error)
    assert (failure.exit_code, failure.kind) == (code, kind)


def test_an_unexpected_error_is_one_line_asking_to_report_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert report(RuntimeError("boom"), Output(False), "status", verbose=0) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: internal error (RuntimeError: boom)")
    assert "please report" in err and "Traceback" not in err


def test_with_verbose_the_unexpected_error_shows_its_traceback(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    def fail() -> None:
        raise RuntimeError("boom")

    try:
        fail()
    except RuntimeError as error:
        with caplog.at_level(logging.ERROR, logger="orchestrator"):
            assert report(error, Output(False), "status", verbose=1) == 3
    assert "Traceback" in caplog.text and "in fail" in caplog.text
    assert "please report" in capsys.readouterr().err


def test_an_expected_error_never_shows_a_traceback_even_with_verbose(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG):
        report(CheckFailed("mismatch"), Output(False), "verify", verbose=2)
    assert "Traceback" not in caplog.text


def test_json_error_envelope(capsys: pytest.CaptureFixture[str]) -> None:
    error = InputError("dr.yml", ["stores[0].url: expected file://PATH"])
    assert report(error, Output(True), "check-config", verbose=0) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {
        "ok": False,
        "command": "check-config",
        "exit_code": 2,
        "error": {
            "kind": "usage",
            "type": "InputError",
            "message": "dr.yml: 1 error(s)\n  stores[0].url: expected file://PATH",
            "source": "dr.yml",
            "problems": ["stores[0].url: expected file://PATH"],
        },
    }
    assert captured.err.startswith("error: dr.yml: 1 error(s)")
