"""Prompts: synthesised once per text and voice, recorded prompts win, concurrent calls share one synthesis,
files land where Asterisk reads them; espeak-ng, resampled in-process, gives 8 kHz mono WAV in both languages."""

from __future__ import annotations

import asyncio
import io
import os
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from ivr_scripts.actions import Prompt
from speech.prompts import PromptStore
from speech.synth import EspeakSynthesizer, SpeechError, telephone_samples


class CountingSynth:
    name = "fake:1"

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def check(self) -> None:
        pass

    async def synthesize(self, text: str, language: str, out: Path) -> None:
        self.calls.append((text, language))
        await asyncio.sleep(0.05)
        with wave.open(str(out), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(b"\0\0" * 800)


async def test_cache_by_text_and_language_and_one_synthesis_for_concurrent_calls(tmp_path: Path) -> None:
    synth = CountingSynth()
    store = PromptStore(synth, tmp_path / "sounds", "/var/lib/warroom/test/sounds/warroom")
    hello = Prompt("s/greet/text", "नमस्ते", "hi")
    uris = await asyncio.gather(*(store.media(hello) for _ in range(5)))
    assert len(set(uris)) == 1 and synth.calls == [("नमस्ते", "hi")]
    assert uris[0].startswith("sound:/var/lib/warroom/test/sounds/warroom/") and not uris[0].endswith(".wav")
    _uri, path = await store.made(hello)
    assert path.is_file() and oct(path.stat().st_mode & 0o777) == "0o644"
    await store.media(Prompt("other/key/text", "नमस्ते", "hi"))      # same words, same file
    await store.media(Prompt("s/greet/text", "नमस्ते", "en"))        # another voice, another file
    assert synth.calls == [("नमस्ते", "hi"), ("नमस्ते", "en")]
    assert store.stats.synthesised == 2 and store.stats.cached >= 2


async def test_prompts_no_call_took_for_a_while_are_deleted_and_made_again_when_needed(tmp_path: Path) -> None:
    synth = CountingSynth()
    store = PromptStore(synth, tmp_path / "sounds", "/snd")
    greeting, question = Prompt("s/greet/text", "Hello Asha", "en"), Prompt("s/ready/text", "Ready?", "en")
    _u, old = await store.made(greeting)
    _u, fresh = await store.made(question)
    week = 7 * 24 * 3600
    os.utime(old, (time.time() - week - 60,) * 2)
    os.utime(fresh, (time.time() - week - 60,) * 2)
    await store.made(question)  # a call takes it: its time is renewed
    assert store.prune(week) == 1
    assert not old.exists() and fresh.exists()
    await store.made(greeting)
    assert old.is_file() and synth.calls.count(("Hello Asha", "en")) == 2
    assert store.prune(week) == 0


async def test_recorded_prompt_wins_over_synthesis(tmp_path: Path) -> None:
    synth = CountingSynth()
    recorded = tmp_path / "prompts"
    (recorded / "hi" / "strong").mkdir(parents=True)
    with wave.open(str(recorded / "hi" / "strong" / "greet.wav"), "wb") as w:  # 16 kHz: converted to 8 kHz
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\1\0" * 16000)
    store = PromptStore(synth, tmp_path / "sounds", "/snd", recorded_dir=recorded)
    _uri, path = await store.made(Prompt("strong/greet/text", "नमस्ते", "hi"))
    assert synth.calls == [] and store.stats.recorded == 1
    with wave.open(str(path)) as w:
        assert (w.getframerate(), w.getnchannels()) == (8000, 1) and abs(w.getnframes() - 8000) < 100
    await store.made(Prompt("strong/greet/text", "Hello", "en"))  # no English recording: synthesised
    assert synth.calls == [("Hello", "en")]
    with pytest.raises(SpeechError, match="does not exist"):
        await store.made(Prompt("strong/greet/text", "x", "hi", file="missing.wav"))


async def test_espeak_speaks_hindi_and_english_at_8khz(tmp_path: Path) -> None:
    synth = EspeakSynthesizer()
    synth.check()
    for lang, text in (("hi", "बूथ क्रमांक पैंतालीस तैयार है"), ("en", "Booth forty five is ready")):
        out = tmp_path / f"{lang}.wav"
        await synth.synthesize(text, lang, out)
        with wave.open(str(out)) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
            assert w.getnframes() > 8000  # more than a second of speech
    with pytest.raises(SpeechError, match="no voice for language 'fr'"):
        await synth.synthesize("bonjour", "fr", tmp_path / "fr.wav")
    with pytest.raises(SpeechError, match="not-a-tool is not installed"):
        EspeakSynthesizer(espeak="not-a-tool").check()


def _wav(samples: np.ndarray, rate: int, channels: int = 1) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())
    return buf.getvalue()


def test_synthesised_audio_is_resampled_to_8khz_keeping_its_length_and_pitch() -> None:
    t = np.arange(22050 * 2) / 22050  # two seconds of a 440 Hz tone, at espeak-ng's rate
    out = telephone_samples(_wav((8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16), 22050))
    with wave.open(io.BytesIO(out)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(float)
    assert len(samples) == 16000
    crossings = np.count_nonzero(np.diff(np.signbit(samples[100:-100])))  # 2 per cycle
    assert abs(crossings / 2 / ((len(samples) - 200) / 8000) - 440) < 2
    assert 7000 < np.abs(samples).max() < 8500  # the level kept


def test_audio_the_resampler_cannot_take_is_refused_saying_why() -> None:
    with pytest.raises(SpeechError, match="not a WAV file"):
        telephone_samples(b"espeak-ng: voice not found")
    with pytest.raises(SpeechError, match="2 channels, not 16-bit mono"):
        telephone_samples(_wav(np.zeros(200, dtype=np.int16), 22050, channels=2))
