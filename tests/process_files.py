"""What files the test process holds open (Linux /proc)."""

from __future__ import annotations

import gc
import os
from pathlib import Path


def open_files(fragment: str) -> list[str]:
    """The files this process holds open whose path contains ``fragment`` ("(deleted)" marks
    one whose folder is gone), once garbage is collected: a closed Chroma client's objects
    hold their last file handles in reference cycles until then."""
    gc.collect()
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if fragment in target:
            found.append(target)
    return found
