"""Before an IVR campaign's call is dialed: its prompts made, so the member hears the first words the
moment they answer.

A script's prompts carry the member's name, booth and committee, so most cannot be made in advance for
everyone; made as the call is answered, they leave the member listening to silence while the synthesiser
works, longer the more calls are answered together (500 answered at once wait seconds). The dialer asks for
this as soon as it has claimed the target (:mod:`dialer.scheduler` waits for it before the Originate); the
call's details read here are kept for the call, so preparing costs no extra database read.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ari_handlers import ivr_store as store
from ivr_scripts.engine import Engine
from ivr_scripts.model import Number

if TYPE_CHECKING:
    from ari_handlers.ivr_deps import IvrDeps

log = logging.getLogger(__name__)
KEEP = 5_000  # call details kept for calls not answered yet (the oldest are dropped: read again if answered)


async def prepare_call(deps: IvrDeps, attempt_id: int) -> int:
    """Read the outbound call's details and make every prompt its script can play; how many prompts (made
    now or already made). A prompt that cannot be made is left for the call, which says what is wrong.

    A few calls at a time, in the order they were claimed: each is ready (and dialed) as soon as its own
    prompts are made, rather than all of them at the end, together; and the live calls' answers never wait
    behind hundreds of these reads in the database's queue."""
    async with deps.preparing:
        info = await deps.db.run(store.outbound_info, attempt_id, party=deps.party,
                                 default_language=deps.default_language)
        deps.prepared[attempt_id] = info
        while len(deps.prepared) > KEEP:
            deps.prepared.pop(next(iter(deps.prepared)))
        script = deps.library.for_status(info.scripts, info.booth_status)
        engine = Engine(script, info.language, info.context)
        made = 0
        for step in script.steps:
            for part in step.texts():
                if part == "confirm" and isinstance(step, Number):
                    continue  # reads back the digits the member will type
                try:
                    await deps.prompts.made(engine.prompt(step, part))
                except Exception as exc:  # noqa: BLE001 - the call meets the same problem and reports it
                    log.debug("attempt %d: prompt %s/%s not made ahead: %s", attempt_id, step.id, part, exc)
                    continue
                made += 1
        return made


def prepared_info(deps: IvrDeps, attempt_id: int) -> store.CallInfo | None:
    """The details :func:`prepare_call` read for the attempt, taken (None: not prepared)."""
    return deps.prepared.pop(attempt_id, None)
