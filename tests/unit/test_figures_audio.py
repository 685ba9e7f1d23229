"""Audio helpers: WAV header parsing (against the wave module) and clip descriptions."""

from __future__ import annotations

import io
import wave

import numpy as np

from vizboard.data.models import BlobRef
from vizboard.figures.audio import ClipInfo, clip_info, describe_clip, wav_info


def _wav(rate: int, frames: int, channels: int = 1) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.zeros(frames * channels, dtype="<i2").tobytes())
    return buf.getvalue()


def test_wav_info_matches_wave_module() -> None:
    info = wav_info(_wav(16000, 8000, channels=2))
    assert info == ClipInfo(16000.0, 2, 8000)
    assert info.seconds == 0.5


def test_wav_info_rejects_garbage_and_truncation() -> None:
    assert wav_info(b"") is None
    assert wav_info(b"RIFF\x00\x00\x00\x00WAVEjunk") is None
    assert wav_info(b"not a wav at all, really") is None
    # a truncated data chunk reports the frames actually present
    data = _wav(8000, 100)
    assert wav_info(data[:-50]).frames == 75


def test_clip_info_prefers_ref_metadata_then_bytes() -> None:
    ref = BlobRef("r", "t", 0, 0.0, "/f", 0, 1, sample_rate=44100.0, num_channels=1, length_frames=22050)
    assert clip_info(ref).seconds == 0.5
    bare = BlobRef("r", "t", 0, 0.0, "/f", 0, 1)
    assert clip_info(bare) is None
    assert clip_info(bare, _wav(8000, 4000)).seconds == 0.5


def test_describe_clip() -> None:
    assert describe_clip(ClipInfo(44100.0, 1, 66150)) == "44100 Hz · 1.50 s · mono"
    assert describe_clip(None) == "unknown format"
