#!/usr/bin/env python3
"""Writes the seeds of the virtio-blk fuzz target (fuzz/corpus/virtio_blk): driver action
sequences in the encoding of fuzz/virtio_blk_fuzz.cc that negotiate features, set up the
request queue, send reads, writes, flushes, GET_ID, discards and write-zeroes (direct and
indirect), and mix in hostile layouts, resets and snapshots, so the fuzzer starts from inputs
that reach the request parser and the image.
Usage: fuzz/corpus/make_virtio_blk_seeds.py   (rewrites the seeds in place)
"""
import os
import struct

from seed_files import write_seeds

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "virtio_blk")

# Operation numbers: the Op enum of fuzz/virtio_blk_fuzz.cc.
(BAR_WRITE, BAR_READ, CONFIG_WRITE, NEGOTIATE, SETUP_QUEUE, DRIVER_OK, WRITE_BYTES, WRITE_DESC,
 REQUEST, MAKE_AVAILABLE, NOTIFY, RUN, DRIVER_RESET, MACHINE_RESET, SNAPSHOT) = range(15)
# Request types (virtio 1.2 5.2.6); 0x40 makes the request indirect.
IN, OUT, FLUSH, GET_ID, DISCARD, WRITE_ZEROES = 0, 1, 4, 8, 11, 13
INDIRECT = 0x40
NEXT, WRITE = 1, 2
# Feature bits: SEG_MAX, BLK_SIZE, FLUSH, DISCARD, WRITE_ZEROES, INDIRECT_DESC, EVENT_IDX,
# VERSION_1.
ALL_FEATURES = sum(1 << b for b in (2, 6, 9, 13, 14, 28, 29, 32))
VERSION_1 = 1 << 32


def op(code):
    return bytes([code])


def negotiate(features=ALL_FEATURES):
    return struct.pack("<BQ", NEGOTIATE, features)


def setup(size_log2=4, desc=0x1000, avail=0x1100, used=0x1200, select=0):
    return struct.pack("<BBHHHB", SETUP_QUEUE, size_log2, desc, avail, used, select)


def bring_up(features=ALL_FEATURES):
    return negotiate(features) + setup() + op(DRIVER_OK)


def request(first, kind, sector, length, header=0x2000, buffer=0x3000):
    if kind & 0x80:
        return struct.pack("<BBHBQHH", REQUEST, first, header, kind, sector, length, buffer)
    return struct.pack("<BBHBBHH", REQUEST, first, header, kind, sector, length, buffer)


def write_bytes(address, data):
    return struct.pack("<BHB", WRITE_BYTES, address, len(data)) + data


def desc(index, addr, length, flags=0, next_index=0):
    return struct.pack("<BBHHBB", WRITE_DESC, index, addr, length, flags, next_index)


def notify(queue=0):
    return struct.pack("<BB", NOTIFY, queue)


def bar_write(offset, size_code, value):
    return struct.pack("<BHBQ", BAR_WRITE, offset, size_code, value)


def config_write(offset, width_code, value):
    return struct.pack("<BBBI", CONFIG_WRITE, offset, width_code, value)


def blk_range(sector, sectors, flags=0):
    return struct.pack("<QII", sector, sectors, flags)


def go():
    return notify() + op(RUN)


SEEDS = {
    "write_then_read": b"\0" + bring_up()
    + write_bytes(0x3000, bytes(range(200)))
    + request(0, OUT, 3, 512) + go()
    + request(3, IN, 3, 512, header=0x2040, buffer=0x4000) + go(),
    "indirect_flush_get_id": b"\0" + bring_up()
    + request(0, IN | INDIRECT, 1, 1024) + go()
    + request(1, FLUSH, 0, 0, header=0x2040) + go()
    + request(4, GET_ID | INDIRECT, 0, 20, header=0x2080) + go()
    + request(7, GET_ID, 0, 7, header=0x20c0) + go(),
    "discard_write_zeroes": b"\0" + bring_up()
    + write_bytes(0x3000, blk_range(8, 16))
    + request(0, DISCARD, 0, 16) + go()
    + write_bytes(0x3000, blk_range(0, 8, 1))
    + request(3, WRITE_ZEROES, 0, 16, header=0x2040) + go()
    + write_bytes(0x3000, blk_range(120, 16) + blk_range(0, 1))
    + request(6, WRITE_ZEROES, 0, 32, header=0x2080) + go(),
    "errors": b"\0" + bring_up()
    + request(0, IN | 0x80, 0xFFFFFFFFFFFFFFFF, 512) + go()
    + request(3, OUT, 127, 1024, header=0x2040) + go()
    + request(6, IN, 0, 500, header=0x2080) + go()
    + request(9, 7, 0, 512, header=0x20c0) + go(),
    "read_only": b"\1" + bring_up(VERSION_1 | (1 << 5))
    + request(0, OUT, 0, 512) + go()
    + request(3, DISCARD, 0, 16, header=0x2040) + go(),
    "hostile_rings": b"\0" + negotiate()
    + setup(4, desc=0xc000) + op(DRIVER_OK) + op(DRIVER_RESET)
    + bring_up()
    + desc(0, 0x2000, 16, NEXT, 1) + desc(1, 0x3000, 512, NEXT | WRITE, 0)
    + struct.pack("<BHB", MAKE_AVAILABLE, 0, 1) + go()
    + op(DRIVER_RESET) + bring_up()
    + struct.pack("<BHB", MAKE_AVAILABLE, 0, 40) + go(),
    "registers": b"\0" + bring_up()
    + bar_write(0x4000, 2, 0xfee00000) + bar_write(0x4008, 2, 0x41) + bar_write(0x400c, 2, 0)
    + bar_write(0x0010, 1, 1) + bar_write(0x001a, 1, 0)
    + config_write(0x04, 1, 0x0406)
    + struct.pack("<BHB", BAR_READ, 0x1000, 0) + struct.pack("<BHB", BAR_READ, 0x2000, 3)
    + request(0, FLUSH, 0, 0) + go()
    + struct.pack("<BHB", BAR_READ, 0x1000, 0) + op(MACHINE_RESET),
    "snapshot_continues": b"\0" + bring_up()
    + write_bytes(0x3000, b"cella" * 20)
    + request(0, OUT, 1, 512) + go() + op(SNAPSHOT)
    + request(3, IN, 1, 512, header=0x2040, buffer=0x5000) + notify()
    + op(SNAPSHOT) + op(RUN),
}


def main():
    write_seeds(HERE, SEEDS)


if __name__ == "__main__":
    main()
