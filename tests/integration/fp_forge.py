#!/usr/bin/env python3
"""Rewrites one entry of a node fingerprint table (LEDGER.fp, policy/fp_table.h) in place, as a
peer of the same user could: the entry of buffer ADDR in the section of process PID is given the
fingerprint of buffer FROM_ADDR of process FROM_PID, so that the table claims the two hold the
same bytes (tests/integration/node_dedup_tests.sh: what grey-report --node --verify must catch).

    fp_forge.py TABLE PID ADDR FROM_PID FROM_ADDR

The layout is policy/fp_table.h's, version 1; the header is checked and the table's size must be
header + sections x section, so a change of layout fails here loudly instead of forging nothing.
Exit status 0 when the entry was rewritten, 1 otherwise (with the reason)."""
import struct
import sys

MAGIC = 0x3154504659455247  # "GREYFPT1"
HEADER = struct.Struct("<QII48x")  # magic, version, sections, reserved[6]
SECTION_HEAD = struct.Struct("<QiIQQ")  # seq, pid, count, run_id, published_ns
ENTRY = struct.Struct("<QQQQII")  # fp.hi, fp.lo, bytes, addr, row, reserved
ENTRIES = 64
SECTION = SECTION_HEAD.size + ENTRIES * ENTRY.size


def entries(data, sections):
    """(offset of the entry, pid, addr, fingerprint bytes) for every published entry."""
    for i in range(sections):
        base = HEADER.size + i * SECTION
        seq, pid, count, _, _ = SECTION_HEAD.unpack_from(data, base)
        if seq == 0 or seq & 1:
            continue
        for k in range(min(count, ENTRIES)):
            off = base + SECTION_HEAD.size + k * ENTRY.size
            _, _, _, addr, _, _ = ENTRY.unpack_from(data, off)
            yield off, pid, addr, data[off:off + 16]


def main(argv):
    if len(argv) != 6:
        print("usage: fp_forge.py TABLE PID ADDR FROM_PID FROM_ADDR", file=sys.stderr)
        return 1
    path, pid, addr, from_pid, from_addr = argv[1], int(argv[2]), int(argv[3], 16), int(argv[4]), int(argv[5], 16)
    with open(path, "r+b") as f:
        data = bytearray(f.read())
        magic, version, sections = HEADER.unpack_from(data, 0)
        if magic != MAGIC or version != 1 or len(data) != HEADER.size + sections * SECTION:
            print(f"{path}: not a version 1 table of this layout", file=sys.stderr)
            return 1
        found = {(p, a): (off, fp) for off, p, a, fp in entries(data, sections)}
        if (pid, addr) not in found or (from_pid, from_addr) not in found:
            print(f"{path}: no entry for pid {pid} 0x{addr:x} or pid {from_pid} 0x{from_addr:x}", file=sys.stderr)
            return 1
        f.seek(found[(pid, addr)][0])
        f.write(found[(from_pid, from_addr)][1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
