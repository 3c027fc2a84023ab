"""Replay the committed fuzz corpus through the oracle (the fast and the careful codec agree
on every input, only ParseError escapes, framers stay within their limits), and run a short
coverage-guided pass with atheris."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.oracle import check_input, check_message

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "fuzz" / "corpus"
FILES = sorted(CORPUS.iterdir())


def test_the_corpus_is_committed() -> None:
    assert len([f for f in FILES if f.name.startswith("seed-")]) >= 100
    assert len(FILES) >= 300


def test_fast_and_careful_codecs_agree_on_every_corpus_input() -> None:
    for path in FILES:
        data = path.read_bytes()
        check_input(data)
        # Every input also as a bare message, whatever target its first byte picked.
        check_message(data[1:])


def test_a_short_coverage_guided_pass_finds_nothing(tmp_path: Path) -> None:
    """``OSC_LIVE_FUZZ_SECONDS`` (default 10) of atheris from the corpus; CI installs atheris
    (benchmarks/requirements.txt) and sets OSC_LIVE_REQUIRE_PEERS=1, so this runs there."""
    try:
        import atheris  # noqa: F401
    except ImportError:
        if os.environ.get("OSC_LIVE_REQUIRE_PEERS") == "1":
            pytest.fail("atheris is not installed: pip install -r benchmarks/requirements.txt")
        pytest.skip("atheris is not installed (pip install -r benchmarks/requirements.txt)")
    seconds = int(os.environ.get("OSC_LIVE_FUZZ_SECONDS", "10"))
    work = tmp_path / "corpus"
    work.mkdir()
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tests" / "fuzz" / "fuzz_codec.py"),
            f"-max_total_time={seconds}",
            "-max_len=2048",
            f"-artifact_prefix={tmp_path}/",
            str(work),
            str(CORPUS),
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        cwd=ROOT,
    )
    tail = proc.stderr[-3000:]
    assert proc.returncode == 0, tail
    assert "Done" in tail and "runs in" in tail, tail
    assert not list(tmp_path.glob("crash-*")), tail
