"""A second sandbox Asterisk playing a SIP trunk provider (templates in ``tests/provider/``): it listens on
127.0.0.2, demands registration with a password, challenges every call, sends the customer's calls on to
the phone farm and calls for the customer's DIDs to the customer's registered contact."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from sandbox.asterisk import Sandbox
from tests.isolation import node_name
from warroom.settings import REPO_ROOT

PROVIDER_IP = "127.0.0.2"
BASE = REPO_ROOT / "config" / "asterisk"
OWN = REPO_ROOT / "tests" / "provider"
NOT_BASE = {"pjsip.conf.j2", "extensions.conf.j2", "warroom_pjsip.conf.j2", "warroom_extensions.conf.j2"}


@dataclass(frozen=True)
class ProviderPorts:
    sip: int
    ami: int
    http: int
    rtp_start: int
    farm: int     # the public network's phones (a SIPp phone farm on 127.0.0.1)


def provider_node(cache: Path, workdir: Path, *, account: str, password: str, dids: list[str],
                  ports: ProviderPorts, node: str = "") -> Sandbox:
    """The provider's sandbox node (not started): the war room's base templates (Asterisk's own files)
    with the provider's PJSIP and dialplan."""
    node = node or node_name("provider")
    templates = workdir / "provider-templates"
    shutil.rmtree(templates, ignore_errors=True)
    templates.mkdir(parents=True)
    for tpl in BASE.glob("*.j2"):
        if tpl.name not in NOT_BASE:
            shutil.copy(tpl, templates / tpl.name)
    for tpl in OWN.glob("*.j2"):
        shutil.copy(tpl, templates / tpl.name)
    context = {"node": node, "provider_ip": PROVIDER_IP, "sip_port": ports.sip, "ami_port": ports.ami,
               "ami_user": "provider", "ami_secret": "not-used-by-the-tests", "ami_permit": "127.0.0.1/32",
               "http_port": ports.http, "ari_user": "provider", "ari_password": "not-used-by-the-tests",
               "rtp_start": ports.rtp_start, "rtp_end": ports.rtp_start + 499, "farm_port": ports.farm,
               "account": account, "password": password, "dids": dids,
               "webrtc": {"enabled": False}}  # the base templates' browser-phone parts: none at a provider
    return Sandbox(node, cache, templates, context)
