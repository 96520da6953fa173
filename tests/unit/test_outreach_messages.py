"""Broadcast messages with real sox, ffmpeg and espeak-ng: uploads (WAV, MP3, OGG) converted to 8 kHz mono and
loudness-normalised (a whisper and a shout come out as loud), their length measured, what is no recording
refused; a person's message spliced from a recorded name (or a synthesised one) and the recording."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from core.errors import Invalid
from outreach.recordings import Messages, convert, length, name_key
from speech.synth import EspeakSynthesizer


def tone(path: Path, seconds: float, rate: int = 44100, volume: float = 0.1, channels: int = 2) -> Path:
    """A sweep through the voice band (sox), written as ``path``'s suffix says; MP3 through ffmpeg."""
    wav = path.with_suffix(".src.wav") if path.suffix == ".mp3" else path
    subprocess.run(["sox", "-n", "-r", str(rate), "-c", str(channels), str(wav), "synth", str(seconds),
                    "sine", "300-1200", "vol", str(volume)], check=True)
    if wav != path:
        subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-i", str(wav), str(path)], check=True)
    return path


def loudness(path: Path) -> float:
    """Integrated loudness (LUFS, EBU R128) as ffmpeg's ebur128 filter measures it."""
    err = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-i", str(path), "-af", "ebur128", "-f", "null", "-"],
                         capture_output=True, text=True, check=True).stderr
    return float(next(ln for ln in reversed(err.splitlines()) if ln.strip().startswith("I:")).split()[1])


def soxi(path: Path, flag: str) -> str:
    return subprocess.run(["soxi", flag, str(path)], check=True, capture_output=True, text=True).stdout.strip()


async def test_quiet_and_loud_uploads_come_out_as_loud_telephone_wavs(tmp_path: Path) -> None:
    made = {}
    for name, volume, suffix, rate, channels in (("whisper", 0.02, ".wav", 44100, 2), ("shout", 0.95, ".mp3", 48000, 1),
                                                  ("phone", 0.1, ".ogg", 16000, 1), ("studio", 0.5, ".wav", 48000, 2)):
        source = tone(tmp_path / f"{name}{suffix}", 3.0, rate, volume, channels)
        out = tmp_path / "out" / f"{name}.wav"
        seconds = await convert(source, out)
        assert abs(seconds - 3.0) < 0.1, name  # an MP3 encoder pads a little
        assert (soxi(out, "-r"), soxi(out, "-c"), soxi(out, "-b")) == ("8000", "1", "16")
        made[name] = loudness(out)
    before = [loudness(tmp_path / "whisper.wav"), loudness(tmp_path / "shout.mp3")]
    assert before[1] - before[0] > 25  # 30 dB apart going in...
    assert max(made.values()) - min(made.values()) < 1.0, made  # ...within 1 LU coming out
    assert all(-17.5 < lufs < -14.5 for lufs in made.values()), made  # about -16 LUFS


async def test_what_is_no_recording_is_refused_saying_why(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(Invalid, match="wav, .mp3 or .ogg"):
        await convert(tmp_path / "notes.txt", tmp_path / "x.wav")
    (tmp_path / "broken.mp3").write_bytes(bytes(range(256)) * 80)
    with pytest.raises(Invalid, match="broken.mp3: not a WAV, MP3 or OGG recording that can be read"):
        await convert(tmp_path / "broken.mp3", tmp_path / "x.wav")
    (tmp_path / "cut.wav").write_bytes(tone(tmp_path / "whole.wav", 1.0).read_bytes()[:30])  # a header, cut short
    with pytest.raises(Invalid, match="cut.wav: "):
        await convert(tmp_path / "cut.wav", tmp_path / "x.wav")
    with pytest.raises(Invalid, match="silent"):
        await convert(tone(tmp_path / "silence.wav", 2.0, volume=0.0), tmp_path / "x.wav")
    with pytest.raises(Invalid, match="0.1 s long"):
        await convert(tone(tmp_path / "blip.ogg", 0.1), tmp_path / "x.wav")
    assert not (tmp_path / "x.wav").exists()


async def test_a_person_hears_their_name_then_the_leader(tmp_path: Path) -> None:
    messages = Messages(tmp_path / "rec", tmp_path / "names", tmp_path / "cache", EspeakSynthesizer())
    assert await messages.add_recording(tone(tmp_path / "leader.wav", 3.0), "leader1") == pytest.approx(3.0, 0.02)
    await messages.add_name(tone(tmp_path / "ram.wav", 0.8), "राम कुमार", "hi")
    assert name_key("राम  कुमार") == "राम_कुमार"
    recorded = await messages.render("leader1", "राम कुमार", "hi", tmp_path / "p1.wav")
    assert recorded["name"] == "recorded" and recorded["seconds"] == pytest.approx(3.8, abs=0.05)
    spoken = await messages.render("leader1", "Sita Devi", "en", tmp_path / "p2.wav")
    assert spoken["name"] == "synthesised" and 3.3 < float(str(spoken["seconds"])) < 6
    assert round(await length(tmp_path / "p2.wav"), 2) == spoken["seconds"]
    with pytest.raises(Invalid, match="no recording 'other'"):
        await messages.render("other", "x", "hi", tmp_path / "p3.wav")


async def test_a_short_name_is_normalised_too(tmp_path: Path) -> None:
    """R128 measures 0.4 s blocks: a name shorter than that is measured with silence after it."""
    seconds = await convert(tone(tmp_path / "ram.wav", 0.3, volume=0.02), tmp_path / "ram.out.wav")
    assert abs(seconds - 0.3) < 0.02
    assert 0.3 < peak(tmp_path / "ram.out.wav") < 0.9  # raised from 0.02 like a longer recording would be


def peak(path: Path) -> float:
    stat = subprocess.run(["sox", str(path), "-n", "stat"], capture_output=True, text=True, check=True).stderr
    return float(next(ln for ln in stat.splitlines() if ln.startswith("Maximum amplitude")).split()[-1])
