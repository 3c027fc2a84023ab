"""Coverage-guided fuzzing (atheris) of the OSC parser, the careful codec and the stream framers.

Opt-in (not collected by pytest; atheris is a benchmark/fuzz requirement, see
benchmarks/requirements.txt)::

    .venv/bin/python tests/fuzz/fuzz_codec.py -runs=0 tests/fuzz/corpus   # replay the corpus
    .venv/bin/python tests/fuzz/fuzz_codec.py -max_total_time=60 /tmp/corpus tests/fuzz/corpus
    bash tests/fuzz/run.sh 30        # what CI runs: 30 s of fuzzing from the committed seeds

The first byte of an input picks the target, the rest is the data:

- 0-2  ``OscMessage`` / ``OscBundle`` / ``OscPacket`` of the data; the fast parser (cold,
  interpreted and generated plans) must agree with the careful parser; re-encoding the parsed
  arguments with their type tags gives the same result through the generated and the careful
  encoders;
- 3-5  the data fed to a ``SizePrefixFramer`` / ``SlipFramer`` / ``AutoFramer`` in chunks
  whose sizes come from the data; every packet they yield is parsed as above.

Any exception other than ``ParseError`` (``FramingError`` is one) is a finding, and so is a
disagreement (AssertionError).  A crash writes the input to ``crash-*``: add it to
tests/fuzz/corpus/ once fixed, and tests/test_fuzz_corpus.py replays it in every test run.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> None:
    """Run atheris on ``check_input`` (arguments: libFuzzer's)."""
    import atheris

    # Every osc_live module must be first imported here to be instrumented (coverage).
    with atheris.instrument_imports(include=["osc_live"]):
        from tests.fuzz.oracle import check_input

    atheris.Setup(sys.argv, check_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
