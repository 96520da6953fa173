"""Broadcast messages with real sox and espeak-ng: uploads converted to 8 kHz mono and normalised, their
length measured; a person's message spliced from a recorded name (or a synthesised one) and the recording."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from core.errors import Invalid
from outreach.recordings import Messages, convert, length, name_key
from speech.synth import EspeakSynthesizer


def tone(path: Path, seconds: float, rate: int = 44100) -> Path:
    subprocess.run(["sox", "-n", "-r", str(rate), "-c", "2", str(path), "synth", str(seconds), "sine", "440",
                    "vol", "0.1"], check=True)
    return path


def peak(path: Path) -> float:
    stat = subprocess.run(["sox", str(path), "-n", "stat"], capture_output=True, text=True, check=True).stderr
    return float(next(ln for ln in stat.splitlines() if ln.startswith("Maximum amplitude")).split()[-1])


def soxi(path: Path, flag: str) -> str:
    return subprocess.run(["soxi", flag, str(path)], check=True, capture_output=True, text=True).stdout.strip()


async def test_uploads_become_telephone_wav_normalised_with_their_length(tmp_path: Path) -> None:
    for suffix in (".wav", ".ogg"):
        out = tmp_path / f"m{suffix}.wav"
        seconds = await convert(tone(tmp_path / f"leader{suffix}", 2.0), out)
        assert abs(seconds - 2.0) < 0.05
        assert (soxi(out, "-r"), soxi(out, "-c"), soxi(out, "-b")) == ("8000", "1", "16")
        assert 0.6 < peak(out) < 0.75  # -3 dBFS, from a quiet 0.1
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(Invalid, match="wav, .mp3 or .ogg"):
        await convert(tmp_path / "notes.txt", tmp_path / "x.wav")


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
