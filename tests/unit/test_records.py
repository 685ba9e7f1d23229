"""Record framing: the spec's test vectors, damage handling, and a property test of torn tails."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from logger.records import (
    HEADER_SIZE,
    DamageKind,
    frame,
    masked_crc32c,
    scan,
)

VERSION_PAYLOAD = bytes.fromhex("0900000040fc54d9411a0d627261696e2e4576656e743a32")


def test_masked_crc_vectors() -> None:
    assert masked_crc32c(b"") == 0xA282EAD8
    assert masked_crc32c(bytes([0x1A, 0x11]) + b"CRC test, one two") == 0x5794D08A


def test_crc32c_check_value() -> None:
    import google_crc32c

    assert google_crc32c.value(b"123456789") == 0xE3069283


def test_version_record_matches_spec_bytes() -> None:
    expected = bytes.fromhex(
        "1800000000000000" "a37f4b22" "0900000040fc54d9411a0d627261696e2e4576656e743a32" "eced8f9d"
    )
    assert frame(VERSION_PAYLOAD) == expected


def test_scan_reads_consecutive_records_with_offsets() -> None:
    payloads = [b"a", b"", b"xyz" * 100]
    data = b"".join(frame(p) for p in payloads)
    result = scan(data, base_offset=1000)
    assert [r.payload for r in result.records] == payloads
    assert [r.offset for r in result.records] == [1000, 1000 + 17, 1000 + 33]
    assert result.consumed == len(data)
    assert result.damage == []


def test_payload_crc_damage_is_skipped_and_reading_continues() -> None:
    good = [frame(b"first"), frame(b"second"), frame(b"third")]
    broken = bytearray(good[1])
    broken[HEADER_SIZE + 2] ^= 0x01
    data = good[0] + bytes(broken) + good[2]
    result = scan(data)
    assert [r.payload for r in result.records] == [b"first", b"third"]
    assert len(result.damage) == 1
    assert result.damage[0].kind is DamageKind.PAYLOAD_CRC
    assert result.damage[0].offset == len(good[0])
    assert result.damage[0].length == len(good[1])
    assert result.consumed == len(data)


def test_length_crc_damage_resyncs_to_next_header() -> None:
    good = [frame(b"one"), frame(b"two" * 50), frame(b"three")]
    broken = bytearray(good[1])
    broken[0] ^= 0xFF  # corrupt the length: its CRC no longer matches
    data = good[0] + bytes(broken) + good[2]
    result = scan(data)
    assert [r.payload for r in result.records] == [b"one", b"three"]
    assert [d.kind for d in result.damage] == [DamageKind.LENGTH_CRC]
    assert result.damage[0].offset == len(good[0])
    assert result.damage[0].length == len(good[1])


def test_garbage_is_damage_only_when_final() -> None:
    garbage = b"this is not an event file at all" * 3
    partial = scan(garbage)
    assert partial.records == []
    # All offsets whose 12 header bytes are present were tested and rejected.
    assert partial.consumed == len(garbage) - HEADER_SIZE + 1
    assert sum(d.length for d in partial.damage) == partial.consumed
    final = scan(garbage, final=True)
    assert final.consumed == len(garbage)
    assert sum(d.length for d in final.damage) == len(garbage)


def test_huge_length_with_valid_crc_is_not_waited_for_forever() -> None:
    header = struct.pack("<Q", 1 << 40)
    bogus = header + struct.pack("<I", masked_crc32c(header)) + b"\0" * 20
    result = scan(bogus + frame(b"ok"))
    assert [r.payload for r in result.records] == [b"ok"]
    assert result.damage and result.damage[0].kind is DamageKind.LENGTH_CRC


@settings(max_examples=300, deadline=None)
@given(payloads=st.lists(st.binary(max_size=300), min_size=1, max_size=8), data=st.data())
def test_any_truncation_is_a_torn_tail_never_data(payloads: list[bytes], data: st.DataObject) -> None:
    blob = b"".join(frame(p) for p in payloads)
    cut = data.draw(st.integers(min_value=0, max_value=len(blob)))
    result = scan(blob[:cut])
    boundaries = [0]
    for p in payloads:
        boundaries.append(boundaries[-1] + len(p) + 16)
    complete = max(b for b in boundaries if b <= cut)
    assert result.damage == []
    assert result.consumed == complete
    assert [r.payload for r in result.records] == payloads[: boundaries.index(complete)]
    # Completing the file later yields everything exactly once.
    rest = scan(blob[result.consumed :], base_offset=result.consumed)
    assert [r.payload for r in result.records + rest.records] == payloads


@settings(max_examples=200, deadline=None)
@given(payloads=st.lists(st.binary(max_size=200), min_size=1, max_size=6))
def test_any_payload_round_trips(payloads: list[bytes]) -> None:
    result = scan(b"".join(frame(p) for p in payloads), final=True)
    assert [r.payload for r in result.records] == payloads
    assert result.damage == []
