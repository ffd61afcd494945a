"""Golden corpus for intake.parsing.

Every tests/data/mail/NNN-topic.eml is parsed and compared with
NNN-topic.json, which holds the expected ParsedMessage.to_json().  Only the
keys present in the .json are compared, so a case may pin just what it is
about.  Keys starting with "_" are not output but instructions:

  "_limits"   ParseLimits overrides for this case, e.g. {"max_size": 700}
  "_headers"  [name, value] pairs that must be in ParsedMessage.headers
  "_note"     free text for the reader

Regenerating after a deliberate change (keeps the "_" keys):

    INTAKE_REGEN_GOLDEN=1 python -m pytest tests/test_parsing_golden.py -q \
        -p no:cacheprovider --noconftest
    python tests/test_parsing_golden.py [NNN-topic ...]

A regenerated expectation is only correct once a person has read its diff
(`git diff tests/data/mail`): never commit one unread.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

if __name__ == "__main__":  # allow `python tests/test_parsing_golden.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from intake.parsing import ParseLimits, parse_message

MAIL_DIR = Path(__file__).parent / "data" / "mail"
CASES = sorted(path.stem for path in MAIL_DIR.glob("*.eml"))
REGEN = os.environ.get("INTAKE_REGEN_GOLDEN") == "1"


def load_expected(name: str) -> dict:
    path = MAIL_DIR / f"{name}.json"
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def parse_case(name: str, expected: dict):
    limits = ParseLimits(**expected.get("_limits", {}))
    return parse_message((MAIL_DIR / f"{name}.eml").read_bytes(), limits)


def regenerate(name: str) -> None:
    expected = load_expected(name)
    result = parse_case(name, expected).to_json()
    kept = {key: value for key, value in expected.items() if key.startswith("_")}
    kept.update(result)
    text = json.dumps(kept, indent=2, ensure_ascii=False) + "\n"
    (MAIL_DIR / f"{name}.json").write_text(text, encoding="utf-8")


def test_corpus_is_big_enough():
    assert len(CASES) >= 30
    missing = [name for name in CASES if not (MAIL_DIR / f"{name}.json").exists()]
    assert not missing or REGEN, f"cases without expectations: {missing}"


@pytest.mark.parametrize("name", CASES)
def test_golden(name: str) -> None:
    if REGEN:
        regenerate(name)
        pytest.skip("expectation regenerated: review the diff")
    expected = load_expected(name)
    parsed = parse_case(name, expected)
    actual = parsed.to_json()
    json.dumps(actual)  # must be JSON-able
    for key, value in expected.items():
        if key == "_headers":
            pairs = [list(pair) for pair in parsed.headers]
            for pair in value:
                assert pair in pairs, f"header {pair} not in {pairs}"
        elif not key.startswith("_"):
            assert actual[key] == value, f"{name}: {key} differs"


if __name__ == "__main__":
    for case in sys.argv[1:] or CASES:
        regenerate(case)
        print("regenerated", case)
