"""``warroom outreach`` on the command line: the import's accounting and rejects file, a campaign refused
without its MCMC reference, the DND file loaded and asked, an opt-out, the inquiry report."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from warroom.cli import app


def cli(tmp_path: Path, *args: str) -> tuple[int, str]:
    env = {"WARROOM_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "WARROOM_STATE_DIR": str(tmp_path / "st")}
    res = CliRunner().invoke(app, list(args), env=env)
    return res.exit_code, res.output


def test_outreach_on_the_command_line(tmp_path: Path) -> None:
    src = tmp_path / "list.csv"
    src.write_text("mobile,name,AC,consent\n9826011111,Ram,152,form\n12345,Bad,152,form\n"
                   "98260 11113 / 94250 11114,Sita,,\n", encoding="utf-8")
    code, out = cli(tmp_path, "outreach", "import", str(src), "--list", "drive", "--consent", "event",
                    "--rejects", str(tmp_path / "rejects.csv"))
    assert code == 0, out
    assert "created            2" in out and "rejected           1" in out and "warning: two numbers" in out
    with open(tmp_path / "rejects.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert rows[1][0] == "12345" and rows[1][-2:] == ["phone", "'12345' is not a valid Indian number (5 digits: 12345)"]
    code, out = cli(tmp_path, "outreach", "campaign", "create", "c1", "--list", "drive", "--caller-id", "07554000000",
                    "--trunk-category", "140")
    assert code == 0, out
    code, out = cli(tmp_path, "outreach", "campaign", "start", "c1")
    assert code == 1 and "no MCMC certificate reference" in out
    (tmp_path / "dnd.txt").write_text("+91 98260 11111\n")
    assert cli(tmp_path, "outreach", "dnd", "load", str(tmp_path / "dnd.txt"))[0] == 0
    assert cli(tmp_path, "outreach", "dnd", "check", "9826011111")[0] == 3
    assert cli(tmp_path, "outreach", "dnd", "check", "9826011113")[0] == 0
    assert cli(tmp_path, "outreach", "opt-out", "9826011113")[1].strip() == "opted out"
    assert cli(tmp_path, "outreach", "campaign", "mcmc", "c1", "MCMC/BPL/1")[0] == 0
    code, out = cli(tmp_path, "outreach", "campaign", "scrub", "c1")
    assert code == 0 and "1 dnd, 1 opted out" in out
    assert cli(tmp_path, "outreach", "campaign", "start", "c1")[0] == 0
    code, out = cli(tmp_path, "outreach", "campaign", "report", "c1")
    assert code == 0 and out.splitlines()[0] == "at,phone,name,ac,caller_id,trunk,trunk_category,outcome,listened_s"
