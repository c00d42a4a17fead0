#!/usr/bin/env python3
"""Writes the seeds of the virtqueue fuzz target (fuzz/corpus/virtqueue): operation sequences in
the encoding of fuzz/virtqueue_fuzz.cc that set up a queue, build direct and indirect chains
(good and malformed), and drive pop, push, interrupt decisions and snapshots, so the fuzzer
starts from inputs that reach the chain walker.
Usage: fuzz/corpus/make_virtqueue_seeds.py   (rewrites the seeds in place)
"""
import os
import struct

from seed_files import write_seeds

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "virtqueue")

# Operation numbers: the Op enum of fuzz/virtqueue_fuzz.cc.
ENABLE, WRITE_BYTES, WRITE_DESC, MAKE_AVAILABLE, POP, PUSH, NEEDS_INTERRUPT = range(7)
SET_NOTIFICATIONS, DRIVER_SUPPRESSION, SNAPSHOT, RESET = range(7, 11)
NEXT, WRITE, INDIRECT = 1, 2, 4


def enable(size_log2, desc=0x1000, avail=0x1800, used=0x1900, event_idx=0):
    return struct.pack("<BBHHHB", ENABLE, size_log2, desc, avail, used, event_idx)


def write_bytes(address, data):
    return struct.pack("<BHB", WRITE_BYTES, address, len(data)) + data


def desc(index, addr, length, flags=0, next_index=0):
    return struct.pack("<BBHHBH", WRITE_DESC, index, addr, length, flags, next_index)


def raw_desc(addr, length, flags=0, next_index=0):
    return struct.pack("<QIHH", addr, length, flags, next_index)


def available(slot, head, advance):
    return struct.pack("<BBHB", MAKE_AVAILABLE, slot, head, advance)


def push(which, written):
    return struct.pack("<BBI", PUSH, which, written)


def op(code):
    return bytes([code])


SEEDS = {
    "direct_chain": enable(3)
    + desc(0, 0x2000, 0x100, NEXT, 1)
    + desc(1, 0x2800, 0x200, WRITE)
    + available(0, 0, 1)
    + op(POP)
    + push(0, 0x80)
    + op(NEEDS_INTERRUPT)
    + op(SNAPSHOT)
    + op(POP),
    "indirect_event_idx": enable(4, event_idx=1)
    + write_bytes(0x2000, raw_desc(0x2100, 16, NEXT, 1) + raw_desc(0x2200, 32, WRITE | NEXT, 2)
                  + raw_desc(0x6000, 8, WRITE))
    + desc(0, 0x2000, 48, INDIRECT)
    + struct.pack("<BB", SET_NOTIFICATIONS, 1)
    + available(0, 0, 1)
    + op(POP)
    + struct.pack("<BHH", DRIVER_SUPPRESSION, 0, 0)
    + push(0, 40)
    + op(NEEDS_INTERRUPT)
    + op(SNAPSHOT),
    "split_regions_and_hole": enable(3)
    + desc(0, 0x2f00, 0x200, NEXT, 1)
    + desc(1, 0x3f00, 0x100, WRITE)
    + desc(2, 0x3f00, 0x200, WRITE)
    + available(0, 0, 1)
    + op(POP)
    + available(1, 2, 2)
    + op(POP)
    + op(RESET),
    "loop_and_bad_next": enable(3)
    + desc(0, 0x2000, 8, NEXT, 1)
    + desc(1, 0x2000, 8, NEXT, 0)
    + available(0, 0, 1)
    + op(POP)
    + desc(1, 0x2000, 8, NEXT, 9)
    + op(POP)
    + available(0, 8, 1)
    + op(POP)
    + available(0, 0, 200)
    + op(POP),
    "nested_indirect": enable(2)
    + write_bytes(0x2000, raw_desc(0x2100, 16, NEXT, 1) + raw_desc(0x2040, 16, INDIRECT))
    + write_bytes(0x2040, raw_desc(0x2100, 16))
    + desc(0, 0x2000, 32, INDIRECT)
    + available(0, 0, 1)
    + op(POP)
    + desc(0, 0x2000, 24, INDIRECT)
    + op(POP)
    + desc(0, 0x2000, 32, INDIRECT | NEXT, 1)
    + op(POP),
    "many_rounds": enable(1, event_idx=1)
    + desc(0, 0x2000, 0x10, NEXT, 1)
    + desc(1, 0x2400, 0x10, WRITE)
    + b"".join(available(i, 0, 1) + op(POP) + push(0, 0x10) + op(NEEDS_INTERRUPT)
               + (op(SNAPSHOT) if i % 16 == 0 else b"") for i in range(64)),
}


def main():
    write_seeds(HERE, SEEDS)


if __name__ == "__main__":
    main()
