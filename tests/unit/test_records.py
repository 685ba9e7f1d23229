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


def test_find_headers_matches_a_byte_by_byte_search() -> None:
    import os

    from logger.records import MAX_RECORD_BYTES, find_headers

    rng = __import__("random").Random(3)
    for trial in range(10):
        junk = bytes(rng.getrandbits(8) for _ in range(3000))
        blob = junk[:trial] + b"".join(frame(os.urandom(i * 7)) for i in range(30)) + junk + bytes(64) + frame(b"")
        brute = [p for p in range(len(blob) - 11)
                 if masked_crc32c(blob[p : p + 8]) == struct.unpack_from("<I", blob, p + 8)[0]
                 and struct.unpack_from("<Q", blob, p)[0] <= MAX_RECORD_BYTES]
        for a, b in ((0, len(blob)), (5, len(blob) - 3), (trial, len(blob) - trial)):
            assert find_headers(blob, a, b).tolist() == [p for p in brute if a <= p < b]


def test_payload_damage_does_not_swallow_records_inside_its_claimed_length() -> None:
    big = frame(b"x" * 5000)
    inside = [frame(f"r{i}".encode()) for i in range(20)]
    data = big[: len(big) - 1000] + b"".join(inside) + frame(b"after" * 300)
    result = scan(data)
    assert [r.payload for r in result.records] == [f"r{i}".encode() for i in range(20)] + [b"after" * 300]
    assert [d.kind for d in result.damage] == [DamageKind.PAYLOAD_CRC]
    assert result.damage[0].offset == 0 and result.consumed == len(data)


@settings(max_examples=200, deadline=None)
@given(payloads=st.lists(st.binary(max_size=120), min_size=1, max_size=40), data=st.data())
def test_vectorised_framing_agrees_with_the_reference(payloads: list[bytes], data: st.DataObject) -> None:
    from vizboard.data.reader import frame_chunk

    blob = bytearray(b"".join(frame(p) for p in payloads))
    for _ in range(data.draw(st.integers(0, 3))):
        at = data.draw(st.integers(0, max(0, len(blob) - 1)))
        kind = data.draw(st.sampled_from(["flip", "cut", "zero", "insert"]))
        if not blob:
            break
        if kind == "flip":
            blob[at] ^= 1 << data.draw(st.integers(0, 7))
        elif kind == "cut":
            del blob[at : at + data.draw(st.integers(1, 40))]
        elif kind == "zero":
            n = data.draw(st.integers(1, 40))
            blob[at : at + n] = bytes(len(blob[at : at + n]))
        else:
            blob[at:at] = data.draw(st.binary(min_size=1, max_size=40))
    final = data.draw(st.booleans())
    ref = scan(bytes(blob), 100, final=final)
    chunk, consumed = frame_chunk("f", bytes(blob), 100, final=final)
    assert consumed == ref.consumed
    assert [(chunk.offset(i), chunk.payload(i)) for i in range(len(chunk))] == [(r.offset, r.payload) for r in ref.records]
    assert chunk.damage == ref.damage


@settings(max_examples=40, deadline=None)
@given(cycle=st.lists(st.integers(0, 60), min_size=1, max_size=6), n=st.integers(100, 3000), data=st.data())
def test_vectorised_framing_agrees_on_long_cyclic_streams_with_breaks(cycle: list[int], n: int,
                                                                      data: st.DataObject) -> None:
    """A training loop's stream: a cycle of record sizes, broken now and then by other records (the
    every-10/100-steps ones) and by damage; the framer's cycle prediction (which gallops from 64
    records up) must find exactly the records the reference scan finds."""
    from vizboard.data.reader import frame_chunk

    every = data.draw(st.integers(5, 400))
    odd = data.draw(st.integers(61, 500))
    payloads = [bytes([i % 251]) * (odd if i % every == every - 1 else cycle[i % len(cycle)]) for i in range(n)]
    blob = bytearray(b"".join(frame(p) for p in payloads))
    for _ in range(data.draw(st.integers(0, 2))):
        at = data.draw(st.integers(0, len(blob) - 1))
        blob[at] ^= 1 << data.draw(st.integers(0, 7))
    final = data.draw(st.booleans())
    ref = scan(bytes(blob), 0, final=final)
    chunk, consumed = frame_chunk("f", bytes(blob), 0, final=final)
    assert consumed == ref.consumed
    assert [(chunk.offset(i), chunk.payload(i)) for i in range(len(chunk))] == [(r.offset, r.payload) for r in ref.records]
    assert chunk.damage == ref.damage
