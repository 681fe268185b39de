"""Raw tensor bytes: every numeric datatype round-trips, BYTES is length-prefixed, sizes checked."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from app.errors import InvalidInput
from app.services.binary_tensors import DATATYPES, array_from_bytes, array_to_bytes


@pytest.mark.parametrize("datatype", sorted(DATATYPES))
def test_every_datatype_round_trips(datatype: str) -> None:
    values = np.array([[0, 1, 1], [1, 0, 1]]).astype(DATATYPES[datatype])
    raw = array_to_bytes(values, datatype)
    assert len(raw) == 6 * DATATYPES[datatype].itemsize
    decoded = array_from_bytes("input", datatype, [2, 3], raw)
    assert decoded.dtype == DATATYPES[datatype]
    np.testing.assert_array_equal(decoded, values)


def test_numbers_are_little_endian() -> None:
    assert array_to_bytes(np.array([1.5]), "FP32") == struct.pack("<f", 1.5)
    assert array_to_bytes([258], "INT16") == b"\x02\x01"
    assert array_from_bytes("x", "UINT32", [1], b"\x01\x00\x00\x00").tolist() == [1]


def test_bytes_elements_are_length_prefixed() -> None:
    assert array_to_bytes(["ab", "", "ü"], "BYTES") == (
        b"\x02\x00\x00\x00ab" + b"\x00\x00\x00\x00" + b"\x02\x00\x00\x00\xc3\xbc"
    )


@pytest.mark.parametrize(
    ("datatype", "shape", "raw", "message"),
    [
        ("FP32", [2, 2], b"\x00" * 12, "needs 16 bytes, got 12"),
        ("FP32", [-1, 2], b"", "negative"),
        ("BYTES", [1], b"\x00" * 4, "not supported"),
        ("FP8", [1], b"\x00", "not supported"),
    ],
)
def test_bad_tensors_name_the_input(
    datatype: str, shape: list[int], raw: bytes, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        array_from_bytes("features", datatype, shape, raw)
    assert "'features'" in caught.value.detail
