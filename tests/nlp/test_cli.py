"""The classify command: JSONL in and out, stdin/stdout by default, bad lines reported and skipped."""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import pytest

from feedbackbot.nlp import KeywordClassifier
from feedbackbot.nlp.cli import add_commands, classify_stream, main


def test_bad_lines_reported_by_number_and_skipped() -> None:
    src = io.StringIO(
        '{"id": "a", "text": "he is outside now"}\n'
        "this is not json\n"
        '{"id": "b"}\n'
        "\n"
        '{"id": 7, "text": "thank you, please call me"}\n'
    )
    dst, err = io.StringIO(), io.StringIO()
    done, skipped = classify_stream(KeywordClassifier(), src, dst, err, batch_size=1)
    assert (done, skipped) == (2, 2)
    assert "line 2:" in err.getvalue()
    assert "line 3:" in err.getvalue()
    rows = [json.loads(line) for line in dst.getvalue().splitlines()]
    assert [r["id"] for r in rows] == ["a", 7]
    assert rows[0]["risk"] == "urgent"
    assert rows[1]["requests"] == ["callback"]
    for row in rows:
        assert "text" not in row
        assert set(row) >= {"themes", "sentiment", "risk", "risk_categories", "requests", "language", "scores",
                            "model_version"}


def test_stdin_and_stdout_are_the_defaults(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"id": "x", "text": "I want to complain"}\n{bad\n'))
    status = main(["classify", "--keyword-stand-in"])
    out, err = capsys.readouterr()
    assert status == 1
    assert json.loads(out)["requests"] == ["complaint"]
    assert "line 2:" in err
    assert "classified 1 replies, skipped 1 bad lines" in err


def test_files_in_and_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": "thanks"}) + "\n" for i in range(100)), encoding="utf-8")
    assert main(["classify", "--keyword-stand-in", "--input", str(src), "--output", str(dst)]) == 0
    rows = [json.loads(x) for x in dst.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == list(range(100))
    assert capsys.readouterr().out == ""


def test_add_commands_registers_three() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    add_commands(sub)
    for argv in (["classify"], ["evaluate", "x.jsonl"], ["train"]):
        args = parser.parse_args(argv)
        assert callable(args.func)
