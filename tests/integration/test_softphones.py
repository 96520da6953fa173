"""Operators' softphones through real Asterisk: endpoints made from the users table and applied with a
reload; a SIPp softphone registers with the generated password, is refused with a wrong one, and a disabled
user's endpoint is gone."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from accounts.service import add_user, set_disabled
from db import migrate
from db.engine import Database
from events.bus import EventBus
from operators.softphones import FILENAME, Softphones
from sandbox.asterisk import Sandbox
from sandbox.softphone import register
from warroom.compose import build_ami, build_ari
from warroom.settings import Settings

pytestmark = pytest.mark.integration


async def test_softphone_registers_with_its_generated_password_only(
        sandbox: Sandbox, settings: Settings, tmp_path: Path) -> None:
    db = Database.connect(f"sqlite:///{tmp_path / 'users.db'}")
    migrate.upgrade(db.engine)
    sessions = db.sessions
    run = uuid.uuid4().hex[:6]  # Asterisk keeps registrations in its own database: fresh names each run
    with sessions.begin() as s:
        asha = add_user(s, f"asha{run}", "operator", "Operator-pass-1", "Asha Devi")
        ravi = add_user(s, f"ravi{run}", "operator", "Operator-pass-2", "Ravi")
        a, r = asha.sip_username, ravi.sip_username
        secrets = {a: asha.sip_secret, r: ravi.sip_secret}
    bus = EventBus()
    ami, ari = build_ami(settings.asterisk, bus), build_ari(settings.asterisk, bus)
    await ami.start()
    await ari.start()
    conf_dir = sandbox.host_path(sandbox.dirs().etc)
    phones = Softphones(ami, ari, db, conf_dir, owner=sandbox.asterisk_ids())
    port = settings.asterisk.sip_port
    try:
        assert await ami.wait_up(10) and await ari.wait_up(10)
        assert await phones.sync() is True
        assert await phones.sync() is False, "nothing changed: no reload"
        assert await phones.configured(a) and await phones.configured(r)
        text = (conf_dir / FILENAME).read_text()
        assert "md5_cred" in text and secrets[a] not in text, "no password in clear"
        wrong = await asyncio.to_thread(register, a, "not-the-password", sip_port=port,
                                        workdir=tmp_path / "wrong")
        assert wrong == "refused"
        assert not await phones.registered(a)
        ok = await asyncio.to_thread(register, a, secrets[a], sip_port=port, workdir=tmp_path / "ok")
        assert ok == "registered"
        assert await phones.registered(a)
        assert await asyncio.to_thread(register, r, secrets[r], sip_port=port,
                                       workdir=tmp_path / "ravi", local_port=15096) == "registered"
        with sessions.begin() as s:
            set_disabled(s, f"ravi{run}")
        assert await phones.sync() is True
        assert await phones.configured(a) and not await phones.configured(r)
        again = await asyncio.to_thread(register, r, secrets[r], sip_port=port,
                                        workdir=tmp_path / "ravi2", local_port=15097)
        assert again != "registered"
    finally:
        (conf_dir / FILENAME).unlink(missing_ok=True)
        await ami.reload_module("res_pjsip.so")
        await ari.close()
        await ami.close()
        db.close()
