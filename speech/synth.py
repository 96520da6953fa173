"""Synthesisers: turn a text in a language into an 8 kHz mono WAV file.

The default is espeak-ng (Debian package; voices ``hi`` and ``en``), resampled in this process with soxr (sox's
resampler as a library): one process per prompt, not two. A real deployment can plug another synthesiser
behind :class:`Synthesizer` (a cloud TTS, a better local voice): the prompt store only needs ``name`` (part of
the cache key) and ``synthesize``.
"""

from __future__ import annotations

import asyncio
import io
import shutil
import wave
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import numpy as np
import soxr

TELEPHONE_RATE = 8000


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


def check_sox(sox: str = "sox") -> None:
    """sox converts recorded prompts and uploaded audio; say how to install it when it is missing."""
    if shutil.which(sox) is None:
        raise SpeechError(f"{sox} is not installed: apt-get install sox")


async def to_telephone_wav(source: Path | None, out: Path, *, data: bytes | None = None, sox: str = "sox") -> None:
    """Convert audio (a file, or WAV bytes) to what Asterisk plays without transcoding work: 8 kHz mono
    16-bit WAV."""
    src = str(source) if source is not None else "-"
    args = [sox, "-q"] + (["-t", "wav"] if source is None else []) + [src, "-r", "8000", "-c", "1", "-b", "16",
                                                                       "-t", "wav", str(out)]
    await _run(*args, stdin=data)


def telephone_samples(data: bytes) -> bytes:
    """A 16-bit PCM WAV (any rate, mono) as 8 kHz mono 16-bit WAV bytes. espeak-ng writes its WAV to a pipe
    with the lengths unknown; the samples run to the end of the data."""
    try:
        with wave.open(io.BytesIO(data)) as src:
            rate, width, channels = src.getframerate(), src.getsampwidth(), src.getnchannels()
            frames = src.readframes(src.getnframes())
    except (wave.Error, EOFError) as exc:
        raise SpeechError(f"the synthesiser's output is not a WAV file: {exc}") from None
    if width != 2 or channels != 1:
        raise SpeechError(f"the synthesiser's output is {width * 8}-bit with {channels} channels, not 16-bit mono")
    samples = np.frombuffer(frames[:len(frames) - len(frames) % 2], dtype="<i2")
    if rate != TELEPHONE_RATE:
        samples = soxr.resample(samples, rate, TELEPHONE_RATE)
    out = io.BytesIO()
    with wave.open(out, "wb") as dst:
        dst.setnchannels(1)
        dst.setsampwidth(2)
        dst.setframerate(TELEPHONE_RATE)
        dst.writeframes(samples.astype("<i2").tobytes())
    return out.getvalue()


def _write_telephone_wav(data: bytes, out: Path) -> None:
    out.write_bytes(telephone_samples(data))


class EspeakSynthesizer:
    """espeak-ng, resampled to 8 kHz in a worker thread. ``voices`` maps our language codes to espeak-ng
    voices."""

    def __init__(self, voices: Mapping[str, str] | None = None, *, rate: int = 140,
                 espeak: str = "espeak-ng") -> None:
        self.voices = dict(voices or {"hi": "hi", "en": "en"})
        self.rate, self.espeak = rate, espeak
        self.name = f"espeak-ng:{rate}"

    def check(self) -> None:
        """Fail early, with the fix, when the tool is missing."""
        if shutil.which(self.espeak) is None:
            raise SpeechError(f"{self.espeak} is not installed: apt-get install espeak-ng")

    async def synthesize(self, text: str, language: str, out: Path) -> None:
        voice = self.voices.get(language)
        if voice is None:
            raise SpeechError(f"no voice for language '{language}' (have: {', '.join(sorted(self.voices))})")
        wav = await _run(self.espeak, "-v", voice, "-s", str(self.rate), "--stdout", "--", text)
        await asyncio.to_thread(_write_telephone_wav, wav, out)
