"""Peak memory of a whole process tree (a workflow run and every job it starts), printed.

    python benchmarks/peak_memory.py [--interval 0.5] [--record] -- make reproduce

`/usr/bin/time -v` reports the largest single process, not the sum of a
workflow's jobs running side by side. This runs the command and, every
`--interval` seconds, sums the resident memory (VmRSS from /proc) of the
command and all its descendants; it prints the peak of that sum, when it
happened, the processes then alive, and the wall time. Sampling can miss a
peak shorter than the interval. `--record` writes the figures, stamped, to
benchmarks/records/peak_memory.json (one entry per command measured).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def children_map() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended
            continue
        tree.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return tree


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss(root: int) -> tuple[int, list[str]]:
    """(summed RSS in kB, one 'pid name MB' line per process) of root and its descendants."""
    tree, stack, total, alive = children_map(), [root], 0, []
    while stack:
        pid = stack.pop()
        stack.extend(tree.get(pid, []))
        kb = rss_kb(pid)
        total += kb
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:120]
        except OSError:
            cmd = "?"
        alive.append(f"{pid} {kb / 1024:7.0f} MB  {cmd}")
    return total, alive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument(
        "--record", action="store_true", help="write the figures, stamped, to benchmarks/records/peak_memory.json"
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command, after --")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    load_before = os.getloadavg()
    start = time.monotonic()
    proc = subprocess.Popen(command)
    peak, peak_at, peak_alive = 0, 0.0, []
    while proc.poll() is None:
        total, alive = tree_rss(proc.pid)
        if total > peak:
            peak, peak_at, peak_alive = total, time.monotonic() - start, alive
        time.sleep(args.interval)
    wall = time.monotonic() - start
    print(
        f"\npeak memory of the process tree: {peak / 2**20:.2f} GiB at {peak_at:.0f} s; wall {wall:.0f} s; exit {proc.returncode}",
        file=sys.stderr,
    )
    print("processes at the peak:\n  " + "\n  ".join(peak_alive), file=sys.stderr)
    if args.record:
        from stamp import write_record

        columns = ["peak GiB", "at s", "wall s", "exit status", "processes at the peak", "interval s"]
        row = [round(peak / 2**20, 2), round(peak_at), round(wall), proc.returncode, len(peak_alive), args.interval]
        write_record("peak_memory", {"process tree": {"columns": columns, "rows": [row]}}, load_before)
    sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
