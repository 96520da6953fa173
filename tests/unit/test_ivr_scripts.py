"""IVR scripts: every built-in script is valid in both languages; bad scripts are reported with lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr_scripts.context import call_context, sample_context
from ivr_scripts.library import BUILTIN_DIR, ScriptLibrary, UnknownScript
from ivr_scripts.loader import load_script, parse_script
from ivr_scripts.problems import ScriptInvalid
from ivr_scripts.render import RenderError, render

GOOD = """\
name: tiny
languages: [hi, en]
steps:
  - id: greet
    say: {hi: "नमस्ते {{ member.name }}", en: "Hello {{ member.name }}"}
  - id: q
    ask: {hi: "1 या 2", en: "1 or 2"}
    keys: {"1": bye, "2": null}
  - id: bye
    end: {hi: "धन्यवाद", en: "Thanks"}
"""


def problems_of(text: str) -> list[tuple[int, str]]:
    with pytest.raises(ScriptInvalid) as info:
        parse_script(text, "x.yaml")
    return [(p.line, p.message) for p in info.value.problems]


def test_builtin_scripts_are_valid_and_render_in_both_languages() -> None:
    lib = ScriptLibrary()
    assert lib.problems == []
    assert {"strong", "weak", "swing", "general", "hotline", "programme"} <= set(lib.names())
    for name in lib.names():
        script = lib.get(name)
        assert script.languages == ["hi", "en"]
        for lang in script.languages:
            ctx = {**sample_context(lang), "entered": 412}  # a number step's read-back
            for step in script.steps:
                for part, text in step.texts().items():
                    if text:
                        out = render(text[lang], ctx)
                        assert out and "{{" not in out, (name, step.id, part)
    hi = render(lib.get("strong").step("greet").texts()["text"]["hi"], sample_context("hi"))
    en = render(lib.get("strong").step("greet").texts()["text"]["en"], sample_context("en"))
    assert "रमेश कुमार" in hi and "बूथ क्रमांक 45" in hi
    assert "Ramesh Kumar" in en and "Booth number 45" in en


def test_script_for_each_booth_status() -> None:
    lib = ScriptLibrary()
    assert lib.for_status({}, "strong").name == "strong"
    assert lib.for_status({}, "weak").name == "weak"
    assert lib.for_status({}, "swing").name == "swing"
    assert lib.for_status({}, None).name == "general"
    assert lib.for_status({"strong": "programme"}, "strong").name == "programme"
    with pytest.raises(UnknownScript, match="no IVR script named 'nope'"):
        lib.for_status({"weak": "nope"}, "weak")


def test_a_good_script_parses() -> None:
    script = parse_script(GOOD)
    assert [s.id for s in script.steps] == ["greet", "q", "bye"]
    assert script.step("q").line == 6


def test_unknown_step_kind_and_setting_name_their_lines() -> None:
    text = GOOD.replace("  - id: bye\n    end:", "  - id: bye\n    colour: red\n    endd:")
    assert problems_of(text) == [(9, "step 'bye': unknown step (unknown: colour, endd): a step needs one of "
                                     "say, ask, number, pin, record, branch, transfer, optout, ticket, end")]
    text = GOOD.replace('    keys: {"1": bye, "2": null}', '    keys: {"1": bye, "2": null}\n    timout: 5')
    assert problems_of(text) == [(9, "step 'q': unknown setting 'timout'")]


def test_unknown_jump_target_and_unreachable_step() -> None:
    text = GOOD.replace('"1": bye', '"1": byee') + "  - id: orphan\n    say: {hi: a, en: b}\n"
    found = problems_of(text)
    assert (8, "step 'q': keys.1 goes to unknown step 'byee'") in found
    assert (11, "step 'orphan' can never be reached") in found


def test_missing_and_undeclared_language() -> None:
    text = GOOD.replace('say: {hi: "नमस्ते {{ member.name }}", en: "Hello {{ member.name }}"}',
                        'say: {hi: "नमस्ते", fr: "Bonjour"}')
    found = problems_of(text)
    assert (5, "step 'greet': say is missing language en") in found
    assert any(line == 5 and "language fr that the script does not declare" in m for line, m in found)


def test_undefined_variables_with_line_numbers() -> None:
    text = GOOD.replace("Hello {{ member.name }}", "Hello {{ membr.name }} {{ booth.colour }} {{ campaign.date }}")
    found = problems_of(text)
    assert any(line == 5 and "undefined variable 'membr'" in m for line, m in found)
    assert any(line == 5 and "undefined variable 'booth.colour'" in m for line, m in found)
    assert any(line == 5 and "'campaign.date' (declare it under 'fields:')" in m for line, m in found)
    declared = text.replace("languages: [hi, en]", "languages: [hi, en]\nfields: [date]")
    assert all("campaign.date" not in m for _, m in problems_of(declared))


def test_answers_must_name_ask_steps_and_syntax_errors_are_reported() -> None:
    text = GOOD.replace('end: {hi: "धन्यवाद", en: "Thanks"}', 'end: {hi: "{{ answers.q }}", en: "{{ answers.greet }}"}')
    assert [m for _, m in problems_of(text)] == ["step 'bye': undefined variable 'answers.greet'; answers has: q"]
    broken = GOOD.replace("Hello {{ member.name }}", "Hello {{ member.name ")
    assert any("template syntax" in m for _, m in problems_of(broken))


def test_yaml_errors_duplicates_and_silent_loops() -> None:
    assert problems_of("name: x\nsteps: [\n")[0][1].startswith("not valid YAML")
    dup = GOOD + "  - id: bye\n    end: {hi: a, en: b}\n"
    assert (11, "step 'bye' is defined twice (first on line 9)") in problems_of(dup)
    loop = GOOD.replace("  - id: bye\n", "  - id: spin\n    branch: [{if: \"booth.status == 'x'\", goto: spin}]\n"
                        "  - id: bye\n")
    assert any("'spin' loops back to itself" in m for _, m in problems_of(loop))
    twice = GOOD.replace('en: "1 or 2"}', 'en: "1 or 2", en: "again"}')
    assert any("'en' appears twice" in m for _, m in problems_of(twice))


def test_ticket_steps_must_name_an_ask_and_a_record_step() -> None:
    text = GOOD.replace("  - id: bye\n", "  - id: t\n    ticket: {category: greet, note: q}\n  - id: bye\n")
    found = [m for _, m in problems_of(text)]
    assert "step 't': category must name an ask step, not 'greet'" in found
    assert "step 't': note must name a record step, not 'q'" in found


def test_load_script_reads_files_and_reports_unreadable_ones(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(GOOD, encoding="utf-8")
    assert load_script(path).name == "tiny"
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ScriptInvalid, match="cannot read the file"):
        load_script(path)


def test_own_folder_overrides_builtin_and_bad_files_are_kept_aside(tmp_path: Path) -> None:
    (tmp_path / "strong.yaml").write_text(GOOD.replace("name: tiny", "name: strong"), encoding="utf-8")
    (tmp_path / "broken.yaml").write_text("name: broken\n", encoding="utf-8")
    lib = ScriptLibrary([tmp_path])
    assert [s.id for s in lib.get("strong").steps] == ["greet", "q", "bye"]
    assert len(lib.problems) == 1 and "broken.yaml" in str(lib.problems[0])
    assert (BUILTIN_DIR / "strong.yaml").exists()


def test_rendering_is_sandboxed_and_missing_values_render_empty() -> None:
    ctx = call_context(member={"name": "Asha"})
    assert render("Hi {{ member.name }} of booth {{ booth.number }}.", ctx) == "Hi Asha of booth ."
    with pytest.raises(RenderError):
        render("{{ member.__class__.__mro__ }}", ctx)
    with pytest.raises(RenderError, match="undefined"):
        render("{{ nobody.name }}", ctx)
