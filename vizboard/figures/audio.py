"""Audio tab helpers: reading a WAV header (pure, from bytes) and describing a clip."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from vizboard.data.models import BlobRef

__all__ = ["ClipInfo", "wav_info", "clip_info", "describe_clip"]


@dataclass(frozen=True, slots=True)
class ClipInfo:
    """A clip's format: ``sample_rate`` (Hz), ``num_channels``, ``frames``; ``seconds`` = frames / rate."""

    sample_rate: float
    num_channels: int
    frames: int

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate > 0 else 0.0


def wav_info(data: bytes) -> ClipInfo | None:
    """Parse a RIFF/WAVE header from ``data`` (bytes); None if it is not a readable WAV."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    pos = 12
    rate = 0
    channels = 0
    block = 0
    while pos + 8 <= len(data):
        cid = data[pos : pos + 4]
        (size,) = struct.unpack_from("<I", data, pos + 4)
        body = pos + 8
        if cid == b"fmt " and size >= 16 and body + 16 <= len(data):
            _, channels, rate, _, block, _ = struct.unpack_from("<HHIIHH", data, body)
        elif cid == b"data":
            if block <= 0:
                return None
            size = min(size, len(data) - body)  # a streamed WAV may carry 0xFFFFFFFF here
            return ClipInfo(float(rate), int(channels), size // block)
        pos = body + size + (size & 1)
    return None


def clip_info(ref: BlobRef, data: bytes | None = None) -> ClipInfo | None:
    """The clip's format from ``ref``'s metadata (legacy audio records it), else from ``data``'s WAV header."""
    if ref.sample_rate > 0 and ref.length_frames > 0:
        return ClipInfo(float(ref.sample_rate), int(ref.num_channels or 1), int(ref.length_frames))
    if data is not None:
        return wav_info(data)
    return None


def describe_clip(info: ClipInfo | None) -> str:
    """A one-line description: ``"44100 Hz · 1.50 s · mono"``; ``"unknown format"`` if None."""
    if info is None:
        return "unknown format"
    ch = {1: "mono", 2: "stereo"}.get(info.num_channels, f"{info.num_channels} channels")
    return f"{info.sample_rate:g} Hz · {info.seconds:.2f} s · {ch}"
