"""Browser libraries installed from the npm registry (``package.json``, ``package-lock.json``; installed by
``scripts/bootstrap.sh`` with ``npm ci`` into ``node_modules/``) and served by the service itself: no page
loads a script from a third-party site."""

from __future__ import annotations

import logging
from pathlib import Path

SIP_JS = "/static/vendor/sip.js"  # SIP.js (ES modules, no build step): the browser phone's SIP stack
NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"
log = logging.getLogger(__name__)


def sip_js_dir(node_modules: Path = NODE_MODULES) -> Path:
    """SIP.js's modules (``lib/``); a warning says what to run when they are missing."""
    lib = node_modules / "sip.js" / "lib"
    if not (lib / "index.js").exists():
        log.warning("SIP.js is not installed (%s): run scripts/bootstrap.sh (npm ci) for the browser phone", lib)
    return lib
