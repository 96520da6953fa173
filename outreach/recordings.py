"""Broadcast messages: the leader's recording, uploaded as WAV, MP3 or OGG, converted with sox (or ffmpeg
when sox cannot read the file, e.g. MP3 without libsox-fmt-mp3) to 8 kHz mono 16-bit WAV, peak-normalised
to -3 dBFS so every message is as loud; and a person's message rendered from parts: their name from the
recorded-names library (a supervisor records common names once) or synthesised, then the recording."""

from __future__ import annotations

import asyncio
import re
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from core.errors import Invalid
from speech.synth import SpeechError, Synthesizer

FORMATS = (".wav", ".mp3", ".ogg")
MAX_SECONDS = 300.0


async def _run(*argv: str, timeout: float = 120.0) -> str:
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        raise SpeechError(f"{argv[0]} took longer than {timeout:.0f}s") from None
    if proc.returncode != 0:
        raise SpeechError(f"{Path(argv[0]).name}: {err.decode(errors='replace').strip()[-300:]}")
    return out.decode(errors="replace")


async def length(path: Path) -> float:
    """Seconds of audio in a file sox reads."""
    return float((await _run("soxi", "-D", str(path))).strip() or 0)


async def convert(source: Path, out: Path) -> float:
    """``source`` (WAV/MP3/OGG) as a telephone WAV at ``out``, normalised; returns its length in seconds."""
    if source.suffix.lower() not in FORMATS:
        raise Invalid(f"{source.name}: a recording is a .wav, .mp3 or .ogg file", field="file")
    out.parent.mkdir(parents=True, exist_ok=True)
    telephone = ["-r", "8000", "-c", "1", "-b", "16", "-t", "wav", str(out), "gain", "-n", "-3"]
    try:
        await _run("sox", "-q", str(source), *telephone)
    except SpeechError as exc:
        if shutil.which("ffmpeg") is None:
            raise Invalid(f"{source.name}: cannot be read ({exc}); for MP3 install libsox-fmt-mp3 or ffmpeg",
                          field="file") from None
        middle = out.with_suffix(".decoded.wav")
        await _run("ffmpeg", "-v", "error", "-y", "-i", str(source), str(middle))
        await _run("sox", "-q", str(middle), *telephone)
        middle.unlink(missing_ok=True)
    seconds = await length(out)
    if seconds <= 0.2 or seconds > MAX_SECONDS:
        await asyncio.to_thread(out.unlink, missing_ok=True)
        raise Invalid(f"{source.name}: {seconds:.1f} s long (a message is 0.2 s to {MAX_SECONDS:.0f} s)", field="file")
    return seconds


def name_key(name: str) -> str:
    """The file name a recorded name is kept under: NFC, lower case, spaces as '_' (``राम_कुमार``)."""
    text = unicodedata.normalize("NFC", name).replace("\u093c", "").casefold().strip()
    text = re.sub(r"[/\\:*?\"<>|.'`,;]+", "", text)  # nothing a path could trip on
    return re.sub(r"\s+", "_", text).strip("_")[:80]


@dataclass(frozen=True)
class Messages:
    """Where recordings (``<recordings>/<name>.wav``) and recorded names (``<names>/<lang>/<key>.wav``) live;
    ``synth`` speaks a name nobody recorded (cached under ``cache``)."""

    recordings: Path
    names: Path
    cache: Path
    synth: Synthesizer

    async def add_recording(self, source: Path, name: str) -> float:
        if not re.fullmatch(r"[\w\-]{1,60}", name):
            raise Invalid(f"recording name '{name[:60]}': letters, digits, - and _ only", field="name")
        return await convert(source, self.recordings / f"{name}.wav")

    async def add_name(self, source: Path, person_name: str, language: str) -> float:
        """A supervisor's recording of a common name, used instead of synthesis for everyone so named."""
        return await convert(source, self.names / language / f"{name_key(person_name)}.wav")

    async def name_clip(self, person_name: str, language: str) -> tuple[Path, str]:
        """The clip of a name, and where it came from: ``recorded`` or ``synthesised``."""
        key = name_key(person_name)
        recorded = self.names / language / f"{key}.wav"
        if key and recorded.exists():
            return recorded, "recorded"
        out = self.cache / language / f"{key or 'voter'}.wav"
        if not out.exists():
            out.parent.mkdir(parents=True, exist_ok=True)
            await self.synth.synthesize(person_name or "नमस्ते", language, out)
        return out, "synthesised"

    async def render(self, recording: str, person_name: str, language: str, out: Path) -> dict[str, object]:
        """The message one person hears (their name, then the recording) as one WAV: the preview."""
        message = self.recordings / f"{recording}.wav"
        if not message.exists():
            raise Invalid(f"no recording '{recording}' (add one with `warroom outreach recording add`)",
                          field="recording")
        clip, source = await self.name_clip(person_name, language)
        out.parent.mkdir(parents=True, exist_ok=True)
        await _run("sox", "-q", str(clip), str(message), str(out))
        return {"file": str(out), "seconds": round(await length(out), 2), "name": source,
                "parts": [str(clip), str(message)]}
