"""``warroom ivr``, ``tickets`` and ``instructions`` on the command line: clear errors with lines, nothing
stored on bad input."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from warroom.cli import app


def run(tmp_path: Path, *args: str) -> tuple[int, str]:
    env = {"WARROOM_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "WARROOM_STATE_DIR": str(tmp_path / "st")}
    res = CliRunner().invoke(app, list(args), env=env)
    return res.exit_code, res.output


def test_validate_reports_each_problem_with_its_line(tmp_path: Path) -> None:
    good = Path("ivr_scripts/scripts/strong.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nlanguages: [hi, en]\nsteps:\n  - id: a\n    say: {hi: x}\n"
                   "  - id: b\n    ask: {hi: '{{ booth.colour }}', en: y}\n    keys: {'1': nowhere}\n",
                   encoding="utf-8")
    code, out = run(tmp_path, "ivr", "validate", str(good), str(bad))
    assert code == 1
    assert f"{good}: ok (strong: 6 steps, hi, en)" in out
    assert f"{bad}:5: step 'a': say is missing language en" in out
    assert f"{bad}:7: step 'b': undefined variable 'booth.colour'" in out
    assert f"{bad}:8: step 'b': keys.1 goes to unknown step 'nowhere'" in out
    code, out = run(tmp_path, "ivr", "validate", str(good), "--json")
    assert code == 0 and json.loads(out)[0]["name"] == "strong"


def test_list_and_preview_in_both_languages(tmp_path: Path) -> None:
    code, out = run(tmp_path, "ivr", "list")
    assert code == 0 and "swing" in out and "fields: programme, date, place" in out
    code, out = run(tmp_path, "ivr", "preview", "weak", "--lang", "en", "--json")
    texts = json.loads(out)["texts"]
    assert code == 0 and texts[0]["text"].startswith("Hello Ramesh Kumar.")
    code, out = run(tmp_path, "ivr", "preview", "weak", "--lang", "hi")
    assert code == 0 and "नमस्ते रमेश कुमार जी" in out
    code, out = run(tmp_path, "ivr", "preview", "nope")
    assert code == 1 and "no IVR script named 'nope'" in out
    code, out = run(tmp_path, "ivr", "preview", "strong", "--member", "999")
    assert code == 1 and "no member with id 999" in out


def test_preview_for_a_member_and_campaign_script_checks(tmp_path: Path) -> None:
    assert run(tmp_path, "demo-data", "--districts", "1", "--acs", "1", "--booths-per-ac", "2")[0] == 0
    code, out = run(tmp_path, "directory", "export", "--output", str(tmp_path / "dir.csv"))
    assert code == 0
    code, out = run(tmp_path, "campaign", "create", "bad", "--script", "strong=programme")
    assert code == 1 and "needs the campaign field(s) programme, date, place" in out
    code, out = run(tmp_path, "campaign", "create", "bad", "--script", "purple=weak")
    assert code == 1 and "the status must be one of strong, weak, swing, unknown" in out
    code, out = run(tmp_path, "campaign", "list", "--json")
    assert json.loads(out) == [], "nothing is created when the scripts are wrong"
    code, out = run(tmp_path, "campaign", "create", "ok", "--script", "strong=programme", "--field",
                    "programme=Rally", "--field", "date=5 Dec", "--field", "place=Bhopal", "--json")
    assert code == 0 and json.loads(out)["scripts"] == {"strong": "programme"}


def test_tickets_and_instructions_commands(tmp_path: Path) -> None:
    assert run(tmp_path, "demo-data", "--districts", "1", "--acs", "1", "--booths-per-ac", "2")[0] == 0
    code, out = run(tmp_path, "instructions", "add", "Open the booth at 7", "--unit", "ac:404")
    assert code == 1 and "no unit 'ac:404'" in out
    code, out = run(tmp_path, "instructions", "add", "Open the booth at 7", "--unit", "ac:1", "--lang", "en")
    assert code == 0 and "added for ac:1" in out
    code, out = run(tmp_path, "instructions", "list", "--json")
    assert [(r["unit"], r["text"]) for r in json.loads(out)] == [("ac:1", "Open the booth at 7")]
    code, out = run(tmp_path, "tickets", "list")
    assert code == 0 and "no tickets" in out
    code, out = run(tmp_path, "tickets", "assign", "7", "asha")
    assert code == 1 and "no ticket #7" in out
    code, out = run(tmp_path, "tickets", "list", "--category", "snacks")
    assert code == 1 and "category 'snacks'" in out
