"""Files holding secrets or personal data are private from their creation, and nothing a user typed can
add a line (or a comment) to Asterisk's configuration."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from db.engine import make_engine
from operators.softphones import Phone, render
from sandbox.render import RenderError, render_all
from warroom.settings import AsteriskSettings, Settings, TrunkSettings, with_secrets


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> object:
    old = os.umask(0)  # the worst case: files would be world-writable if created by default
    yield
    os.umask(old)


def test_state_dir_secrets_and_sqlite_files_are_private(tmp_path: Path, open_umask: object) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o777)
    os.chmod(state, 0o777)
    settings = with_secrets(Settings(state_dir=state))
    assert _mode(state) == 0o700
    assert _mode(state / "secrets.json") == 0o600
    engine = make_engine(settings.resolved_database_url())
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
        db = Path(engine.url.database or "")
        assert _mode(db) == 0o600
        for extra in (db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            assert extra.exists() and _mode(extra) == 0o600, extra
    engine.dispose()


def test_rendered_config_is_0640_from_the_start_and_refuses_unsafe_values(tmp_path: Path,
                                                                           open_umask: object) -> None:
    templates = tmp_path / "t"
    templates.mkdir()
    (templates / "pjsip.conf.j2").write_text("[{{ name }}]\nsecret = {{ secret }}\n")
    dest = tmp_path / "etc"
    [written] = render_all(templates, dest, {"name": "lines", "secret": "s3cret"})
    assert _mode(written) == 0o640 and written.read_text() == "[lines]\nsecret = s3cret\n"
    for bad in ("x\r\ntype=endpoint", "a;comment", "tab\x01"):
        with pytest.raises(RenderError, match="cannot go into Asterisk's configuration"):
            render_all(templates, dest, {"name": bad, "secret": "s3cret"})
    assert written.read_text() == "[lines]\nsecret = s3cret\n", "nothing was written"


def test_softphone_display_names_cannot_break_out_of_their_line() -> None:
    text_ = render([Phone("op-asha", 'Asha\r\n[evil]\ntype=endpoint; "x"', "secret-1")])
    [line] = [line for line in text_.splitlines() if line.startswith("callerid")]
    assert line == 'callerid = "Asha [evil] type=endpoint x" <op-asha>'
    assert "[evil]" not in [line.strip() for line in text_.splitlines()]


@pytest.mark.parametrize("field,value", [("name", "lines;x"), ("name", "li\nnes"), ("host", "1.2.3.4\r\nx"),
                                         ("host", "host;evil")])
def test_trunk_settings_that_would_break_the_config_are_refused(field: str, value: str) -> None:
    with pytest.raises(ValidationError, match=field):
        TrunkSettings(**{field: value})


def test_asterisk_user_names_are_plain() -> None:
    with pytest.raises(ValidationError, match="ami_user"):
        AsteriskSettings(ami_user="warroom\r\n[admin]")
