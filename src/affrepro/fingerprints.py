"""Content fingerprints of the raw dataset files a job reads, so that content, not timestamps, decides.

Snakemake reruns a job when an input is newer than its outputs. A file replaced while
keeping its old mtime (`cp -p`, `touch -r`, a restored backup) would rerun nothing. So the
rules that read a real dataset's files (not the demo's, which the workflow writes itself)
also carry, as a param, a digest of the SHA-256 of every file they read: a changed file
changes the param, and Snakemake's params trigger reruns exactly those jobs.

Hashing is done once per file content: work/fingerprints.json caches each file's hash
under its size, mtime, ctime and inode. ctime cannot be set back by a user, so a
replaced file is hashed again even when its mtime was restored.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path

from affrepro.files import sha256_file, write_text

CACHE = Path("work/fingerprints.json")


def _stat_key(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


def fingerprints(paths: Iterable[str | os.PathLike], cache: Path = CACHE) -> dict[str, str]:
    """path -> SHA-256 of its content, from the cache where the file's stat is unchanged."""
    cache = Path(cache)
    try:
        known = json.loads(cache.read_text()) if cache.is_file() else {}
    except (OSError, ValueError):
        known = {}  # a damaged cache is rebuilt
    found, changed = {}, False
    for path in map(Path, paths):
        key = _stat_key(path)
        entry = known.get(str(path))
        if entry is None or entry[0] != key:
            entry, changed = [key, sha256_file(path)], True
            known[str(path)] = entry
        found[str(path)] = entry[1]
    if changed:
        try:
            write_text(cache, json.dumps(known, sort_keys=True))
        except OSError:
            pass  # a read-only working directory: hash again next time
    return found


def digest(paths: Iterable[str | os.PathLike], cache: Path = CACHE) -> str:
    """One short hash of the content of `paths` (order-independent)."""
    hashes = fingerprints(paths, cache)
    return hashlib.sha256(json.dumps(sorted(hashes.items())).encode()).hexdigest()[:16]
