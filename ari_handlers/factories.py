"""The handlers a call entering our Stasis app can get, by its first Stasis argument."""

from __future__ import annotations

from adapters.ari import AriClient
from ari_handlers.app import CallHandler, HandlerFactory
from ari_handlers.ivr_call import IvrCall
from ari_handlers.ivr_deps import IvrDeps


def ivr_factories(deps: IvrDeps) -> dict[str, HandlerFactory]:
    """``dialer`` (an answered campaign call of an IVR campaign) and ``hotline`` (an inbound call)."""

    def outbound(ari: AriClient, channel_id: str, args: list[str]) -> CallHandler:
        return IvrCall(ari, channel_id, args, deps, "outbound")

    def inbound(ari: AriClient, channel_id: str, args: list[str]) -> CallHandler:
        return IvrCall(ari, channel_id, args, deps, "inbound")

    return {"dialer": outbound, "hotline": inbound}
