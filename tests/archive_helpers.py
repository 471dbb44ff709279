"""Build small archives in memory for reader tests."""

from __future__ import annotations

import io
import tarfile


def tar_gz(members: dict[str, bytes]) -> bytes:
    """A .tar.gz holding the given members."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()
