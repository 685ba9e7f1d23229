"""Audio tab in real Chromium: each step's clip plays from the blob route with the logged frames."""

from __future__ import annotations

import io
import re
import wave
from pathlib import Path

import numpy as np
import pytest
from helpers import WRITERS, card_sel, open_tab, write_with_both
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]


RATE = 8000


def clip(step: int) -> np.ndarray:
    """The float clip logged at ``step``: 0.5 s (step 0) .. 1.5 s of a sine, amplitude 0.5."""
    t = np.arange(int(RATE * (0.5 + 0.5 * step))) / RATE
    return (0.5 * np.sin(2 * np.pi * (220 + 110 * step) * t)).astype(np.float32)


@pytest.fixture(scope="module")
def logdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch

    def write(w) -> None:
        for s in range(3):
            w.add_audio("sound/sine", torch.from_numpy(clip(s)), s, sample_rate=RATE)

    root = tmp_path_factory.mktemp("audio")
    write_with_both(root, write)
    return root


def fetch_wav(page, src: str) -> tuple[int, int, np.ndarray]:
    """GET ``src`` inside the page; return (sample rate, channels, int16 frames)."""
    data = page.evaluate(
        "async (u) => { const r = await fetch(u); if (!r.ok) throw new Error(r.status);"
        " return [r.headers.get('content-type'), Array.from(new Uint8Array(await r.arrayBuffer()))]; }", src)
    assert data[0].startswith("audio/")
    with wave.open(io.BytesIO(bytes(data[1]))) as w:
        return w.getframerate(), w.getnchannels(), np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def test_audio_players_play_the_logged_clips(page, serve, logdir: Path) -> None:
    open_tab(page, serve(logdir), "audio", "audio.audio-player")
    for run in WRITERS:
        card = page.locator(card_sel("audio", run, "sound/sine"))
        player = card.locator("audio.audio-player")
        expect(player).to_have_attribute("src", re.compile(r"step=2&"))
        expect(card.locator(".audio-info")).to_have_text("8000 Hz · 1.50 s · mono")
        assert player.get_attribute("controls") is not None
        # the browser itself decodes the WAV: its duration is the clip's length
        page.wait_for_function("(e) => e.readyState >= 1", arg=player.element_handle())
        assert player.evaluate("(e) => e.duration") == pytest.approx(1.5, abs=1e-3)
        rate, channels, frames = fetch_wav(page, player.get_attribute("src"))
        expected = (np.clip(clip(2), -1, 1) * 32767).astype(np.int16)
        assert (rate, channels) == (RATE, 1)
        np.testing.assert_allclose(frames, expected, atol=1)
        # the slider picks another step's clip
        card.locator('[role="slider"]').focus()
        page.keyboard.press("Home")
        expect(player).to_have_attribute("src", re.compile(r"step=0&"))
        expect(card.locator(".audio-info")).to_have_text("8000 Hz · 0.50 s · mono")
        rate, _, frames = fetch_wav(page, player.get_attribute("src"))
        np.testing.assert_allclose(frames, (clip(0) * 32767).astype(np.int16), atol=1)
