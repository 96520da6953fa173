"""Prompts as files Asterisk can play, cached by a hash of what they say and how.

A recorded prompt wins over synthesis: ``<recorded dir>/<language>/<script>/<step>.wav`` for a step's text
(``<step>.<part>.wav`` for its ``invalid`` / ``no_input`` messages), or the file a step names under
``file:``. Everything else is synthesised once per (synthesiser, language, text) and reused by every call.
Files are written where Asterisk can read them (``cache_dir``, which Asterisk sees as ``asterisk_dir``).
A file's time is renewed each time a call takes it; :meth:`PromptStore.prune` deletes the files no call has
taken for a while (a greeting says a member's name: personal data, and one file per member).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from ivr_scripts.actions import Prompt
from speech.synth import SpeechError, Synthesizer, check_sox, to_telephone_wav

log = logging.getLogger(__name__)


@dataclass
class PromptStats:
    synthesised: int = 0
    cached: int = 0
    recorded: int = 0
    seconds: list[float] = field(default_factory=list)


class PromptStore:
    """``await store.media(prompt)`` -> an ARI media URI (``sound:/...``) for the prompt."""

    def __init__(self, synth: Synthesizer, cache_dir: Path, asterisk_dir: str, *, recorded_dir: Path | None = None,
                 parallel: int = 2) -> None:
        self.synth, self.cache_dir, self.asterisk_dir = synth, cache_dir, asterisk_dir.rstrip("/")
        self.recorded_dir = recorded_dir
        self._limit = asyncio.Semaphore(parallel)
        self._pending: dict[str, asyncio.Future[str]] = {}
        self.stats = PromptStats()

    def check(self) -> None:
        """The synthesiser's and sox's tools are there and the prompt directory can be written."""
        self.synth.check()
        check_sox()
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SpeechError(f"cannot create the prompt directory {self.cache_dir}: {exc}") from exc

    def recorded_file(self, prompt: Prompt) -> Path | None:
        """The recorded prompt for this prompt, if the war room has one."""
        if self.recorded_dir is None:
            return None
        if prompt.file:
            path = Path(prompt.file)
            path = path if path.is_absolute() else self.recorded_dir / path
            if not path.is_file():
                raise SpeechError(f"recorded prompt {path} (named by {prompt.key}) does not exist")
            return path
        script, step, part = prompt.key.split("/")
        name = step if part == "text" else f"{step}.{part}"
        path = self.recorded_dir / prompt.language / script / f"{name}.wav"
        return path if path.is_file() else None

    def key(self, prompt: Prompt, recorded: Path | None) -> str:
        if recorded is not None:
            st = recorded.stat()
            basis = f"file\0{recorded.resolve()}\0{st.st_size}\0{st.st_mtime_ns}"
        else:
            basis = f"tts\0{self.synth.name}\0{prompt.language}\0{prompt.text}"
        return hashlib.sha256(basis.encode()).hexdigest()[:32]

    async def media(self, prompt: Prompt) -> str:
        """The media URI to play; makes the file first if it is not cached yet."""
        return (await self.made(prompt))[0]

    async def made(self, prompt: Prompt) -> tuple[str, Path]:
        """(media URI, file on this host) of the prompt, made first if it is not cached yet."""
        recorded = self.recorded_file(prompt)
        digest = self.key(prompt, recorded)
        rel = f"{digest[:2]}/{digest}"
        target = self.cache_dir / f"{rel}.wav"
        uri = f"sound:{self.asterisk_dir}/{rel}"
        try:
            os.utime(target)  # taken now: prune leaves it
        except FileNotFoundError:
            pass
        else:
            self.stats.cached += 1
            return uri, target
        pending = self._pending.get(digest)
        if pending is not None:  # another call is making the same prompt right now
            await asyncio.shield(pending)
            return uri, target
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._pending[digest] = future
        try:
            if recorded is not None:
                await self._make(target, lambda tmp: to_telephone_wav(recorded, tmp))
                self.stats.recorded += 1
            else:
                await self._make(target, lambda tmp: self.synth.synthesize(prompt.text, prompt.language, tmp))
                self.stats.synthesised += 1
            future.set_result(uri)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters get it through shield; no "never retrieved" warning
            raise
        finally:
            self._pending.pop(digest, None)
        return uri, target

    def prune(self, unused_for: float, now: float | None = None) -> int:
        """Delete the made prompts no call has taken for ``unused_for`` seconds (made again when next needed);
        returns how many. Blocking file work: run it in a thread."""
        cutoff = (time.time() if now is None else now) - unused_for
        removed = 0
        for path in self.cache_dir.glob("??/*.wav"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:  # taken away meanwhile
                continue
        return removed

    async def _make(self, target: Path, make: Callable[[Path], Awaitable[None]]) -> None:
        started = time.monotonic()
        async with self._limit:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(target.parent, 0o755)
            tmp = target.with_suffix(f".{os.getpid()}.tmp.wav")
            try:
                await make(tmp)
                os.chmod(tmp, 0o644)  # Asterisk runs as its own user
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
        self.stats.seconds.append(time.monotonic() - started)
        log.debug("prompt %s made in %.0f ms", target.name, (time.monotonic() - started) * 1000)
