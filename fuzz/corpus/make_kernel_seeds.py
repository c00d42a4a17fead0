#!/usr/bin/env python3
"""Writes the compressed-payload seeds of the kernel_image fuzz target (fuzz/corpus/kernel_image):
the `bzimage` seed with its protected-mode code extended by a payload (boot protocol 2.08+
payload_offset at 0x248, payload_length at 0x24c) holding the `vmlinux` seed compressed with
xz and with gzip, so the fuzzer starts from inputs that reach the host-side unpacking and the
ELF parse of its result.
Usage: fuzz/corpus/make_kernel_seeds.py   (rewrites bzimage_xz and bzimage_gzip in place)
"""
import gzip
import lzma
import os
import struct

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kernel_image")


def with_payload(bzimage, payload):
    setup_sects = bzimage[0x1f1] or 4
    code_start = (setup_sects + 1) * 512
    out = bytearray(bzimage)
    offset = len(out) - code_start  # the payload follows the existing code
    out += payload
    struct.pack_into("<II", out, 0x248, offset, len(payload))
    return bytes(out)


def main():
    with open(os.path.join(HERE, "bzimage"), "rb") as f:
        bzimage = f.read()
    with open(os.path.join(HERE, "vmlinux"), "rb") as f:
        vmlinux = f.read()
    seeds = {
        "bzimage_xz": lzma.compress(vmlinux, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32),
        "bzimage_gzip": gzip.compress(vmlinux),
    }
    for name, payload in seeds.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(with_payload(bzimage, payload))


if __name__ == "__main__":
    main()
