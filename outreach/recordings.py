"""Broadcast messages: the leader's recording, uploaded as WAV, MP3 or OGG, converted with ffmpeg to 8 kHz
mono 16-bit WAV for Asterisk, loudness-normalised on the way (EBU R128 with ffmpeg's ``loudnorm``, two passes:
measure, then a linear gain to -16 LUFS with true peaks under -1.5 dBTP), so a quiet phone recording and a loud
studio one sound alike; and a person's message rendered from parts: their name from the recorded-names library
(a supervisor records common names once) or synthesised, then the recording."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import unicodedata
import wave
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from core.errors import Invalid, Unavailable
from speech.synth import SpeechError, Synthesizer

FORMATS = (".wav", ".mp3", ".ogg")
MAX_SECONDS = 300.0
MIN_SECONDS = 0.2
TARGET_LUFS, TARGET_TP = -16.0, -1.5
LOUDNORM = f"loudnorm=I={TARGET_LUFS:g}:TP={TARGET_TP:g}:LRA=11"  # EBU R128: -16 LUFS, true peaks under -1.5 dBTP
SHORT_SECONDS = 1.0  # shorter (a recorded name): loudnorm's second pass leaves it as it is, so a plain gain
TELEPHONE = "aresample=8000:ochl=mono:osf=dbl"  # measured as it will be played: 8 kHz mono
PAD = "apad=pad_dur=0.5"  # measured with half a second of silence after it: R128 needs 0.4 s blocks (short names)
RECORDING_NAME = re.compile(r"[\w\-]{1,60}")
SILENT_LUFS = -70.0                           # R128's absolute gate: below it there is nothing to hear


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


def _wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / float(w.getframerate() or 1)


def _measured(stderr: str) -> dict[str, str]:
    """The JSON block ``loudnorm`` prints at the end of its first pass (the input's loudness figures)."""
    found = re.search(r"\{[^{}]*\"input_i\"[^{}]*\}", stderr)
    if found is None:
        raise SpeechError("ffmpeg: no loudness measurement")
    return {k: str(v) for k, v in json.loads(found.group(0)).items()}


async def _ffmpeg(*argv: str, timeout: float = 120.0) -> str:
    """ffmpeg's stderr (where ``loudnorm`` prints), or SpeechError with its last lines."""
    proc = await asyncio.create_subprocess_exec("ffmpeg", "-hide_banner", "-nostdin", *argv,
                                                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        _, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise SpeechError(f"ffmpeg took longer than {timeout:.0f}s") from None
    text = err.decode(errors="replace")
    if proc.returncode != 0:
        last = [ln for ln in text.strip().splitlines() if ln.strip()][-2:]
        raise SpeechError("; ".join(last)[-300:] or f"ffmpeg exited with {proc.returncode}")
    return text


async def _probe(source: Path) -> float | None:
    """Refuse at once what is no recording: unreadable, without a sound track, or far too long."""
    try:
        found = json.loads(await _run("ffprobe", "-v", "error", "-show_entries", "stream=codec_type:format=duration",
                                      "-of", "json", str(source), timeout=30))
    except (SpeechError, ValueError) as exc:
        last = (str(exc).strip().splitlines() or ["unreadable"])[-1]
        why = last.replace(f"{source}: ", "").removeprefix("ffprobe: ").replace(f"{source}: ", "")
        raise Invalid(f"{source.name}: not a WAV, MP3 or OGG recording that can be read ({why[:200]})",
                      field="file") from None
    if not any(s.get("codec_type") == "audio" for s in found.get("streams", [])):
        raise Invalid(f"{source.name}: has no sound in it", field="file")
    duration = (found.get("format") or {}).get("duration")
    seconds = float(duration) if duration not in (None, "N/A") else None
    if seconds is not None and not MIN_SECONDS <= seconds <= MAX_SECONDS + 1:
        raise Invalid(f"{source.name}: {seconds:.1f} s long (a message is {MIN_SECONDS} s to {MAX_SECONDS:.0f} s)",
                      field="file")
    return seconds


async def convert(source: Path, out: Path) -> float:
    """``source`` (WAV/MP3/OGG) as a telephone WAV at ``out`` (8 kHz, mono, 16-bit), loudness-normalised;
    returns its length in seconds. A file that is not such a recording (wrong type, corrupt, no sound, too
    long) is refused with :class:`Invalid` saying why, and nothing is left at ``out``."""
    if source.suffix.lower() not in FORMATS:
        raise Invalid(f"{source.name}: a recording is a .wav, .mp3 or .ogg file", field="file")
    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        raise Unavailable("ffmpeg is not installed (scripts/bootstrap.sh installs it)")
    probed = await _probe(source)
    out.parent.mkdir(parents=True, exist_ok=True)
    middle = out.with_name(f".{out.stem}.converting.wav")
    try:
        try:
            first = await _ffmpeg("-i", str(source), "-vn", "-af", f"{TELEPHONE},{PAD},{LOUDNORM}:print_format=json",
                                  "-f", "null", "-")
        except SpeechError as exc:
            raise Invalid(f"{source.name}: not a recording that can be read ({str(exc)[:200]})", field="file") from None
        m = _measured(first)
        if m.get("input_i", "-inf") in ("-inf", "inf") or float(m["input_i"]) < SILENT_LUFS:
            raise Invalid(f"{source.name}: is silent (no speech to play)", field="file")
        if probed is not None and probed < SHORT_SECONDS:  # a name: one gain, to the target or the peak limit
            gain = min(TARGET_LUFS - float(m["input_i"]), TARGET_TP - float(m["input_tp"]))
            target = f"{TELEPHONE},volume={gain:.2f}dB"
        else:  # linear when the peaks allow it, else loudnorm's own dynamic mode
            target = (f"{TELEPHONE},{LOUDNORM}:measured_I={m['input_i']}:measured_TP={m['input_tp']}"
                      f":measured_LRA={m['input_lra']}:measured_thresh={m['input_thresh']}"
                      f":offset={m['target_offset']}:linear=true")
        try:
            await _ffmpeg("-y", "-i", str(source), "-vn", "-af", target, "-ar", "8000", "-ac", "1",
                          "-c:a", "pcm_s16le", "-f", "wav", str(middle))
        except SpeechError as exc:
            raise Invalid(f"{source.name}: could not be converted ({str(exc)[:200]})", field="file") from None
        seconds = await asyncio.to_thread(_wav_seconds, middle)
        if seconds < MIN_SECONDS or seconds > MAX_SECONDS:
            raise Invalid(f"{source.name}: {seconds:.1f} s long (a message is {MIN_SECONDS} s to "
                          f"{MAX_SECONDS:.0f} s)", field="file")
        middle.replace(out)
        return seconds
    finally:
        middle.unlink(missing_ok=True)


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
        if not RECORDING_NAME.fullmatch(name):
            raise Invalid(f"recording name '{name[:60]}': letters, digits, - and _ only", field="name")
        return await convert(source, self.recordings / f"{name}.wav")

    def kept(self) -> list[dict[str, object]]:
        """The recordings kept, newest first: name, seconds, when (blocking: reads each WAV's header)."""
        found = []
        for path in self.recordings.glob("*.wav") if self.recordings.is_dir() else ():
            if not RECORDING_NAME.fullmatch(path.stem):
                continue
            try:
                seconds = round(_wav_seconds(path), 1)
            except (OSError, wave.Error, EOFError):
                continue
            found.append({"name": path.stem, "seconds": seconds,
                          "at": datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat()})
        return sorted(found, key=lambda r: str(r["at"]), reverse=True)

    def recording_file(self, name: str) -> Path | None:
        path = self.recordings / f"{name}.wav"
        return path if RECORDING_NAME.fullmatch(name) and path.is_file() else None

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
