"""Synthesisers: turn a text in a language into an 8 kHz mono WAV file.

The default is espeak-ng (Debian package; voices ``hi`` and ``en``) resampled by sox. A real deployment
can plug another synthesiser behind :class:`Synthesizer` (a cloud TTS, a better local voice): the prompt
store only needs ``name`` (part of the cache key) and ``synthesize``.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol


class SpeechError(RuntimeError):
    """Synthesis or conversion failed; the message says which tool and why."""


class Synthesizer(Protocol):
    name: str

    def check(self) -> None:
        """Raise :class:`SpeechError` saying what is missing, before the first call needs it."""

    async def synthesize(self, text: str, language: str, out: Path) -> None:
        """Write ``text`` spoken in ``language`` to ``out`` as 8 kHz, mono, 16-bit WAV."""


async def _run(*argv: str, stdin: bytes | None = None, timeout: float = 30.0) -> bytes:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(stdin), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise SpeechError(f"{argv[0]} took longer than {timeout:.0f}s") from None
    if proc.returncode != 0:
        raise SpeechError(f"{argv[0]} failed (exit {proc.returncode}): {err.decode(errors='replace').strip()[:300]}")
    return out


async def to_telephone_wav(source: Path | None, out: Path, *, data: bytes | None = None, sox: str = "sox") -> None:
    """Convert audio (a file, or WAV bytes) to what Asterisk plays without transcoding work: 8 kHz mono
    16-bit WAV."""
    src = str(source) if source is not None else "-"
    args = [sox, "-q"] + (["-t", "wav"] if source is None else []) + [src, "-r", "8000", "-c", "1", "-b", "16",
                                                                       "-t", "wav", str(out)]
    await _run(*args, stdin=data)


class EspeakSynthesizer:
    """espeak-ng -> sox. ``voices`` maps our language codes to espeak-ng voices."""

    def __init__(self, voices: Mapping[str, str] | None = None, *, rate: int = 140,
                 espeak: str = "espeak-ng", sox: str = "sox") -> None:
        self.voices = dict(voices or {"hi": "hi", "en": "en"})
        self.rate, self.espeak, self.sox = rate, espeak, sox
        self.name = f"espeak-ng:{rate}"

    def check(self) -> None:
        """Fail early, with the fix, when the tools are missing."""
        for tool, package in ((self.espeak, "espeak-ng"), (self.sox, "sox")):
            if shutil.which(tool) is None:
                raise SpeechError(f"{tool} is not installed: apt-get install {package}")

    async def synthesize(self, text: str, language: str, out: Path) -> None:
        voice = self.voices.get(language)
        if voice is None:
            raise SpeechError(f"no voice for language '{language}' (have: {', '.join(sorted(self.voices))})")
        wav = await _run(self.espeak, "-v", voice, "-s", str(self.rate), "--stdout", "--", text)
        await to_telephone_wav(None, out, data=wav, sox=self.sox)
