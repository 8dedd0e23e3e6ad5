"""Content hashes of inputs, for provenance: same bytes, same hash, whatever the path."""

from __future__ import annotations

import hashlib
from pathlib import Path

# Experiment folders hold checkpoints and artifacts of gigabytes that no loader reads; past this size a
# file in a folder contributes its path and size, not its bytes.
FOLDER_FILE_CONTENT_LIMIT = 16 * 1024 * 1024


def sha256_path(path: Path) -> str:
    """sha256 of a file, or of a folder's files (relative paths, sizes and contents, in sorted order)."""
    digest = hashlib.sha256()
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            size = file.stat().st_size
            digest.update(f"{file.relative_to(path)}\0{size}\0".encode())
            if size <= FOLDER_FILE_CONTENT_LIMIT:
                _feed(digest, file)
    elif path.is_file():
        _feed(digest, path)
    return digest.hexdigest()


def _feed(digest: hashlib._Hash, file: Path) -> None:
    with open(file, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
