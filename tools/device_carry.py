#!/usr/bin/env python3
"""Carries a file larger than one device call may take (64 MiB with the repository) in several calls.

  pack FILE DIR SIZE_MB...   byte planes of the 4-byte words split apart (fp32 weights: the exponent
                             bytes compress well, the mantissas barely), xz-compressed, cut into
                             DIR/part-0, part-1, ... of the given sizes (the last takes the rest)
  unpack DIR FILE            joins the parts (from one folder or several: DIR may be a glob's parent
                             list separated by ':'), checks the SHA-256 and writes FILE

The GPU machine keeps ignored folders between calls while it is warm, so each call carries one part
into its own folder and the last one unpacks. Needs numpy on both sides.
"""
import hashlib
import lzma
import os
import sys

import numpy as np


def pack(path, folder, sizes_mb):
    raw = open(path, "rb").read()
    padded = raw + b"\0" * (-len(raw) % 4)
    planes = np.frombuffer(padded, dtype=np.uint8).reshape(-1, 4).T.copy()
    header = f"{len(raw)} {hashlib.sha256(raw).hexdigest()}\n".encode()
    blob = header + lzma.compress(planes.tobytes(), preset=6)
    os.makedirs(folder, exist_ok=True)
    start = 0
    for i, size in enumerate(sizes_mb + [None]):
        end = len(blob) if size is None else min(len(blob), start + int(size * 1e6))
        with open(os.path.join(folder, f"part-{i}"), "wb") as f:
            f.write(blob[start:end])
        print(f"part-{i}: {end - start} bytes")
        start = end
        if start >= len(blob):
            break


def unpack(folders, path):
    parts = sorted((p for folder in folders.split(":") for p in (os.path.join(folder, n) for n in os.listdir(folder))
                    if os.path.basename(p).startswith("part-")), key=lambda p: int(p.rsplit("-", 1)[1]))
    blob = b"".join(open(p, "rb").read() for p in parts)
    header, body = blob.split(b"\n", 1)
    length, digest = header.decode().split()
    planes = np.frombuffer(lzma.decompress(body), dtype=np.uint8).reshape(4, -1)
    raw = planes.T.copy().tobytes()[: int(length)]
    if hashlib.sha256(raw).hexdigest() != digest:
        sys.exit("device_carry: SHA-256 mismatch: a part is missing or damaged")
    with open(path, "wb") as f:
        f.write(raw)
    print(f"{path}: {len(raw)} bytes, SHA-256 checked")


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "pack":
        pack(sys.argv[2], sys.argv[3], [float(s) for s in sys.argv[4:]])
    elif len(sys.argv) == 4 and sys.argv[1] == "unpack":
        unpack(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
