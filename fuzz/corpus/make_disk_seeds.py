#!/usr/bin/env python3
"""Writes the small seed images of the vmdk and vdi fuzz targets (fuzz/corpus/vmdk, .../vdi).

The images are built field by field from the format descriptions (VMware Virtual Disk Format
1.1; the VDI 1.1 header), with tiny grains and blocks so that each seed is a few KiB.
Usage: fuzz/corpus/make_disk_seeds.py   (rewrites the seed files in place)
"""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    os.makedirs(os.path.join(HERE, target), exist_ok=True)
    with open(os.path.join(HERE, target, name), "wb") as f:
        f.write(data)


def sector_pad(data):
    return data + b"\0" * (-len(data) % 512)


# ---- VMDK ("Hosted Sparse Extent Header", "Stream-Optimized Compressed Sparse Extents") ----
GD_AT_END = 0xFFFFFFFFFFFFFFFF


def vmdk_header(version, flags, capacity, grain, desc_off, desc_size, rgd, gd, overhead,
                compress=0):
    h = struct.pack("<4sIIQQQQIQQQB4sH", b"KDMV", version, flags, capacity, grain, desc_off,
                    desc_size, 512, rgd, gd, overhead, 0, b"\n \r\n", compress)
    return h + b"\0" * (512 - len(h))


def descriptor(create_type, extents, parent_cid="ffffffff", hint=None):
    text = "# Disk DescriptorFile\nversion=1\nCID=0badf00d\nparentCID=%s\n" % parent_cid
    text += 'createType="%s"\n' % create_type
    if hint:
        text += 'parentFileNameHint="%s"\n' % hint
    text += "\n# Extent description\n" + "".join(e + "\n" for e in extents)
    text += '\n# The Disk Data Base\n#DDB\n\nddb.adapterType = "ide"\n'
    return text.encode()


def table(entries, count=512):
    return sector_pad(struct.pack("<%dI" % count, *(entries + [0] * (count - len(entries)))))


def tiny_sparse(zeroed, parent=False):
    # 8 grains of 8 sectors; descriptor at 1, rgd 2, rgt 3-6, gd 7, gt 8-11, grains from 16.
    flags = 0x3 | (0x4 if zeroed else 0)
    text = descriptor("monolithicSparse", ['RW 64 SPARSE "tiny.vmdk"'],
                      "00c0ffee" if parent else "ffffffff", "parent.vmdk" if parent else None)
    out = vmdk_header(2 if zeroed else 1, flags, 64, 8, 1, 1, 2, 7, 16)
    out += sector_pad(text)[:512]
    gtes = [16, 0, 1 if zeroed else 0, 24]
    out += table([3], 128) + table(gtes) + table([8], 128) + table(gtes)
    out += b"\0" * (16 * 512 - len(out))
    out += bytes(range(256)) * 16 + b"\xa5" * 4096
    return out


def tiny_stream(gd_at_end=True):
    grain = 8
    text = descriptor("streamOptimized", ['RW 64 SPARSE "s.vmdk"'])
    flags = 0x30001
    overhead = 2 if gd_at_end else 7
    out = bytearray(vmdk_header(3, flags, 64, grain, 1, 1, 0, GD_AT_END if gd_at_end else 2,
                                overhead, 1))
    out += sector_pad(text)[:512]
    if not gd_at_end:
        out += table([3], 128) + table([])  # gd at 2, gt at 3-6, grains follow
    out += b"\0" * (-len(out) % 512)
    gtes = []
    for lba, fill in ((0, b"grain zero "), (16, b"\x00\x01\x02\x03")):
        data = zlib.compress((fill * 4096)[:4096])
        gtes.append((lba // grain, len(out) // 512))
        out += sector_pad(struct.pack("<QI", lba, len(data)) + data)
    entries = [0] * 8
    for index, sector in gtes:
        entries[index] = sector
    if not gd_at_end:
        out[3 * 512:7 * 512] = table(entries)
        return bytes(out)
    out += struct.pack("<QII", 4, 0, 1) + b"\0" * 496  # grain table marker
    gt_sector = len(out) // 512
    out += table(entries)
    out += struct.pack("<QII", 1, 0, 2) + b"\0" * 496  # grain directory marker
    gd_sector = len(out) // 512
    out += table([gt_sector], 128)
    out += struct.pack("<QII", 1, 0, 3) + b"\0" * 496  # footer marker
    out += vmdk_header(3, flags, 64, grain, 1, 1, 0, gd_sector, overhead, 1)
    out += b"\0" * 512  # end-of-stream marker
    return bytes(out)


def vmdk_seeds():
    put("vmdk", "tiny_sparse.vmdk", tiny_sparse(False))
    put("vmdk", "tiny_zeroed.vmdk", tiny_sparse(True))
    put("vmdk", "tiny_delta.vmdk", tiny_sparse(False, parent=True))
    put("vmdk", "tiny_stream.vmdk", tiny_stream(True))
    put("vmdk", "tiny_stream_gd_first.vmdk", tiny_stream(False))
    put("vmdk", "flat.vmdk", descriptor("monolithicFlat", ['RW 64 FLAT "flat.bin" 16', "RW 8 ZERO"]))
    put("vmdk", "split.vmdk", descriptor("twoGbMaxExtentSparse", [
        'RW 512 SPARSE "sparse.vmdk"', 'RDONLY 32 FLAT "flat.bin" 0', 'NOACCESS 8 ZERO',
        'RW 16 FLAT "flat.bin" 200']))
    put("vmdk", "delta.vmdk", descriptor("monolithicSparse", ['RW 512 SPARSE "sparse.vmdk"'],
                                         "00c0ffee", "parent.vmdk"))


# ---- VDI (pre-header, 1.1 header, block map, data blocks) ----
FREE, ZERO = 0xFFFFFFFF, 0xFFFFFFFE


def vdi(image_type, disk_size, block_size, entries, blocks, create=b"\x22" * 16,
        linkage=b"\0" * 16, data_offset=1024, allocated=None, header_size=0x190):
    out = bytearray(data_offset)
    out[0:40] = b"<<< Oracle VM VirtualBox Disk Image >>>\n"
    struct.pack_into("<III", out, 0x40, 0xBEDA107F, 0x00010001, header_size)
    struct.pack_into("<II", out, 0x4C, image_type, 0)
    struct.pack_into("<II", out, 0x154, 512, data_offset)
    struct.pack_into("<IIII", out, 0x15C, 0, 0, 0, 512)
    struct.pack_into("<QIIII", out, 0x170, disk_size, block_size, 0, len(entries),
                     len(blocks) if allocated is None else allocated)
    out[0x188:0x198] = create
    out[0x198:0x1A8] = b"\x33" * 16
    out[0x1A8:0x1B8] = linkage
    for i, entry in enumerate(entries):
        struct.pack_into("<I", out, 512 + 4 * i, entry)
    for block in blocks:
        out += (block * block_size)[:block_size]
    return bytes(out)


def vdi_seeds():
    put("vdi", "dynamic.vdi", vdi(1, 8 * 4096, 4096, [0, FREE, 1, ZERO, FREE, FREE, 2, FREE],
                                  [b"\x01", b"ab", b"xyz"]))
    put("vdi", "static.vdi", vdi(2, 4 * 4096, 4096, [0, 1, 2, 3], [b"s0", b"s1", b"s2", b"s3"]))
    put("vdi", "qemu_header.vdi", vdi(1, 6 * 4096 - 512, 4096, [1, FREE, 0, FREE, FREE, FREE],
                                      [b"\x05", b"\x06"], header_size=0x180))
    put("vdi", "leaked.vdi", vdi(1, 4 * 4096, 4096, [2, FREE, FREE, FREE],
                                 [b"l0", b"l1", b"l2"]))
    # Differencing, over the fuzz target's parent.vdi (64 KiB blocks, UUID 11..11).
    put("vdi", "diff.vdi", vdi(4, 4 << 20, 65536, [FREE, 0, ZERO] + [FREE] * 61, [b"\x77"],
                               create=b"\x44" * 16, linkage=b"\x11" * 16))


if __name__ == "__main__":
    vmdk_seeds()
    vdi_seeds()
