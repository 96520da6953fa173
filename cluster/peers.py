"""Trunks between the war room's nodes, so a caller on one node can reach an operator whose softphone is
registered to another. Rendered from the nodes table into ``pjsip_peers.conf`` (which ``pjsip.conf``
includes) and applied with a reload of res_pjsip, like the operators' softphones.

On node A the trunk to node B is the endpoint ``peer-B``: A calls ``PJSIP/op-asha@peer-B`` and B's dialplan
(``[warroom-peer]``) rings its own ``op-asha``. The nodes authenticate each other with digest auth and one
secret every node reads from the database (made by the first node)."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Sequence
from pathlib import Path

from adapters.ami import AmiClient, AmiError
from cluster import nodes
from cluster.nodes import Peer
from core.files import write_private
from core.sip import REALM, md5_cred
from db.engine import Database
from db.models import utcnow

log = logging.getLogger(__name__)
FILENAME = "pjsip_peers.conf"
SECRET = "peer_secret"


def endpoint_of(node: str) -> str:
    """The name of the trunk (PJSIP endpoint) that reaches ``node``."""
    return f"peer-{node}"


def render(me: str, peers: Sequence[Peer], secret: str, transport: str = "transport-udp") -> str:
    """The inter-node trunks of node ``me`` (stable order: an unchanged cluster gives an unchanged file), on
    the PJSIP ``transport`` the trunks use (empty: Asterisk chooses)."""
    transport_line = f"transport = {transport}\n" if transport else ""
    out = ["; Rendered by warroom: a trunk to each other node of the war room. Do not edit.\n"]
    for p in sorted(peers, key=lambda p: p.name):
        ep, mine = endpoint_of(p.name), endpoint_of(me)
        out.append(f"""
[{ep}]
type = endpoint
{transport_line}context = warroom-peer
disallow = all
allow = ulaw,alaw
direct_media = no
dtmf_mode = rfc4733
rtp_symmetric = yes
send_pai = no
from_user = {mine}
auth = {ep}-in
outbound_auth = {ep}-out
aors = {ep}

[{ep}-in]
type = auth
auth_type = digest
username = {ep}
realm = {REALM}
md5_cred = {md5_cred(ep, secret)}

[{ep}-out]
type = auth
auth_type = userpass
username = {mine}
password = {secret}

[{ep}]
type = aor
contact = sip:{ep}@{p.sip_host}:{p.sip_port}
""")
    return "".join(out)


class PeerTrunks:
    """Keeps this node's trunks to the other live nodes in step with the nodes table."""

    def __init__(self, ami: AmiClient, db: Database, conf_dir: Path, me: str, *, lease: float,
                 owner: tuple[int, int] | None = None, transport: str = "transport-udp") -> None:
        self.ami, self.db, self.me, self.lease, self.owner = ami, db, me, lease, owner
        self.transport = transport
        self.path = conf_dir / FILENAME
        self.peers: list[Peer] = []
        self._lock = asyncio.Lock()

    async def sync(self) -> bool:
        """Write the trunks if the cluster changed and reload res_pjsip; True when Asterisk was told."""
        async with self._lock:
            peers = await self.db.run(nodes.peers, self.me, utcnow(), self.lease)
            secret = await self.db.run(nodes.shared_key, SECRET, lambda: secrets.token_urlsafe(24))
            text = render(self.me, peers, secret, self.transport)
            try:
                if self.path.read_text() == text:
                    return False
            except OSError:
                pass
            write_private(self.path, text, 0o640, self.owner)
            try:
                await self.ami.reload_module("res_pjsip.so")
            except AmiError as exc:
                log.info("peer trunks written but res_pjsip not reloaded (%s); the next sync retries", exc)
                self.path.unlink(missing_ok=True)
                return False
            self.peers = peers
            log.info("peer trunks: %s", ", ".join(p.name for p in peers) or "none (this node is alone)")
            return True
