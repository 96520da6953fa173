"""Who an IVR call is with, read when it enters our Stasis app: the attempt's member (outbound), or the
caller as the dialplan's FastAGI lookup found them (inbound hotline), looked up here when that lookup did
not run or its arguments cannot be trusted."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ari_handlers import ivr_store as store
from ari_handlers.prepare import prepared_info
from directory.phones import PhoneError, normalise_phone
from events.asterisk import StasisStarted
from hotline.lookup import identify

if TYPE_CHECKING:
    from ari_handlers.ivr_deps import IvrDeps

log = logging.getLogger(__name__)
HOTLINE_ARGS = 6  # <exten>,<person>,<booth>,<status>,<language>,<lookup status>


async def load_info(deps: IvrDeps, direction: str, args: list[str], event: StasisStarted,
                    channel_id: str) -> store.CallInfo:
    """The call's member, booth, language and script context. ``args`` are the Stasis arguments."""
    if direction == "outbound":
        attempt_id = int(args[1])
        info = prepared_info(deps, attempt_id)  # read as the call was dialed
        if info is not None:
            return info
        return await deps.db.run(store.outbound_info, attempt_id, party=deps.party,
                                 default_language=deps.default_language)
    _exten, person, booth, _status, language, looked_up, *_ = [*args, "", "", "", "", "", ""]
    if len(args) != HOTLINE_ARGS or looked_up not in ("KNOWN", "UNKNOWN", ""):
        # the arguments were shifted (a comma in a value the far end chose): trust none of them
        log.warning("call %s: unexpected hotline arguments (%d): looking the caller up here", channel_id, len(args))
        person = booth = language = looked_up = ""
    raw = event.caller_number
    try:
        phone: str | None = normalise_phone(raw)
    except PhoneError:
        phone = raw or None
    if not looked_up:  # the dialplan's FastAGI lookup did not run (our lookup service was down): do it here
        caller = await deps.db.run(identify, raw, deps.default_language)
        person, booth = str(caller.person_id or ""), str(caller.booth_id or "")
        language = caller.language if caller.known else ""
        log.warning("call %s: caller looked up in the app (the dialplan lookup did not run)", channel_id)
    return await deps.db.run(store.inbound_info, phone=phone, person_id=int(person) if person.isdigit() else None,
                             booth_id=int(booth) if booth.isdigit() else None, language=language or None,
                             party=deps.party, default_language=deps.default_language, at=deps.clock())
