"""sha256 of every file below a folder: the generators' determinism checks compare these."""

import hashlib


def tree_digests(root):
    """{relative path: sha256 hex} of every file below ``root``."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
