"""CPU time and memory of the processes under test, read from Linux's /proc.

A part of the system is a process tree (a service's Python process; the Kafka JVM; the
PostgreSQL postmaster with its backends and helpers). Its CPU time is the sum over the tree of
each process's user + system time and the time of children it has already reaped (``cutime`` +
``cstime``): a backend that exits between two samples moves from the tree into its parent's
reaped time, so it is counted once. Memory is summed over the tree, both RSS (which counts
PostgreSQL's shared buffers once per backend that touched them) and PSS (shared pages split
between the processes that map them), from ``/proc/<pid>/smaps_rollup``.

Hand-written rather than psutil: four numbers from one line of /proc are all it needs.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class ProcessStat:
    """The fields of one /proc/<pid>/stat line the benchmark reads."""

    pid: int
    ppid: int
    cpu_ticks: int  # utime + stime
    reaped_children_ticks: int  # cutime + cstime
    rss_pages: int


def parse_stat(line: str) -> ProcessStat:
    """Parses /proc/<pid>/stat (proc(5)). The command name (field 2) is in parentheses and may
    itself hold spaces and parentheses, so the fields are counted from its last ``)``."""
    pid = int(line[: line.index(" ")])
    fields = line[line.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state): field n of proc(5) is fields[n - 3].
    return ProcessStat(
        pid=pid,
        ppid=int(fields[1]),
        cpu_ticks=int(fields[11]) + int(fields[12]),
        reaped_children_ticks=int(fields[13]) + int(fields[14]),
        rss_pages=int(fields[21]),
    )


def parse_pss_kb(smaps_rollup: str) -> int:
    """The ``Pss:`` line of /proc/<pid>/smaps_rollup, in kB (0 when absent)."""
    for line in smaps_rollup.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def read_stat(pid: int) -> ProcessStat | None:
    try:
        return parse_stat((PROC / str(pid) / "stat").read_text(encoding="ascii", errors="replace"))
    except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
        return None  # it exited meanwhile


def all_stats() -> dict[int, ProcessStat]:
    stats: dict[int, ProcessStat] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            stat = read_stat(int(entry.name))
            if stat is not None:
                stats[stat.pid] = stat
    return stats


def tree_of(root: int, stats: dict[int, ProcessStat]) -> list[ProcessStat]:
    """The root and all its descendants that are alive in ``stats``."""
    children: dict[int, list[int]] = {}
    for stat in stats.values():
        children.setdefault(stat.ppid, []).append(stat.pid)
    found: list[ProcessStat] = []
    pending = [root] if root in stats else []
    while pending:
        pid = pending.pop()
        found.append(stats[pid])
        pending.extend(children.get(pid, []))
    return found


@dataclass(frozen=True)
class Usage:
    """A process tree at one moment: CPU seconds used so far, memory now."""

    cpu_s: float
    rss_mb: float
    pss_mb: float
    processes: int


def tree_usage(root: int, stats: dict[int, ProcessStat], *, with_children: bool = True) -> Usage:
    """``with_children=False``: the process alone (the benchmark itself, whose children are
    the services measured on their own)."""
    members = tree_of(root, stats) if with_children else [stats[root]] if root in stats else []
    ticks = sum(m.cpu_ticks + (m.reaped_children_ticks if with_children else 0) for m in members)
    pss_kb = 0
    for member in members:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError, PermissionError):
            pss_kb += parse_pss_kb((PROC / str(member.pid) / "smaps_rollup").read_text())
    return Usage(
        cpu_s=ticks / CLOCK_TICKS_PER_S,
        rss_mb=round(sum(m.rss_pages for m in members) * PAGE_SIZE / 2**20, 1),
        pss_mb=round(pss_kb / 1024, 1),
        processes=len(members),
    )


def sample(roots: dict[str, int], *, alone: frozenset[str] = frozenset()) -> dict[str, Usage]:
    """Usage of each named part (a root pid each); parts in ``alone`` without their children."""
    stats = all_stats()
    return {
        name: tree_usage(pid, stats, with_children=name not in alone) for name, pid in roots.items()
    }


def cpu_ms_per_item(
    before: dict[str, Usage], after: dict[str, Usage], items: int
) -> dict[str, float]:
    """CPU milliseconds per referral (or message) of each part between two samples."""
    return _cpu_ms_divided(before, after, items)


def cpu_ms_per_second(
    before: dict[str, Usage], after: dict[str, Usage], seconds: float
) -> dict[str, float]:
    """CPU milliseconds per second of each part between two samples ``seconds`` apart."""
    return _cpu_ms_divided(before, after, seconds)


def _cpu_ms_divided(
    before: dict[str, Usage], after: dict[str, Usage], by: float
) -> dict[str, float]:
    if by <= 0:
        return {}
    return {
        name: round((after[name].cpu_s - before[name].cpu_s) * 1000 / by, 2)
        for name in after
        if name in before
    }


# What a thread of the Kafka JVM does, from its name: Linux keeps a thread's first 15 characters
# (/proc/<pid>/task/<tid>/comm), enough to tell these apart. The first match counts.
JVM_THREAD_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # HotSpot's just-in-time compilers: a fresh JVM compiles its hot code during the first
    # minutes of traffic, which a long-running broker no longer pays.
    ("jit", ("C2 CompilerThre", "C1 CompilerThre")),
    ("gc and vm", ("GC Thread", "G1 ", "VM Thread", "VM Periodic")),
    # The request handlers (num.io.threads) and the listeners' network threads.
    ("requests", ("data-plane-kafk",)),
    # KRaft: the metadata log, its loader, the quorum controller, the broker's heartbeats to it.
    ("kraft", ("kafka-1-raft", "kafka-1-metadat", "quorum-control", "controller-", "broker-")),
    ("group coordinator", ("group-coordinat",)),
    # Fetches and produces waiting in purgatory, and their expiry.
    ("purgatory", ("ExpirationReape", "executor-")),
)
OTHER_THREADS = "other"


def jvm_thread_kind(name: str) -> str:
    for kind, prefixes in JVM_THREAD_KINDS:
        if name.startswith(prefixes):
            return kind
    return OTHER_THREADS


def parse_thread_stat(line: str) -> tuple[str, int]:
    """A thread's name (the command of its /proc/<pid>/task/<tid>/stat line) and its CPU ticks."""
    name = line[line.index("(") + 1 : line.rindex(")")]
    return name, parse_stat(line).cpu_ticks


def thread_ticks(pid: int) -> dict[int, tuple[str, int]]:
    """Each live thread of ``pid``: its name and CPU ticks so far."""
    threads: dict[int, tuple[str, int]] = {}
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        for entry in (PROC / str(pid) / "task").iterdir():
            with contextlib.suppress(FileNotFoundError, ProcessLookupError, ValueError):
                threads[int(entry.name)] = parse_thread_stat(
                    (entry / "stat").read_text(encoding="ascii", errors="replace")
                )
    return threads


def cpu_ms_by_thread_kind(
    before: dict[int, tuple[str, int]], after: dict[int, tuple[str, int]], by: float
) -> dict[str, float]:
    """CPU milliseconds per item (or per second) of each kind of JVM thread between two samples
    of ``thread_ticks``: a thread started meanwhile counts from zero; one that ended meanwhile is
    lost (Linux keeps no per-thread account of it), which the process's own figure still holds."""
    if by <= 0:
        return {}
    ticks: dict[str, int] = {}
    for tid, (name, now) in after.items():
        earlier = before.get(tid)
        used = now - earlier[1] if earlier is not None and earlier[0] == name else now
        kind = jvm_thread_kind(name)
        ticks[kind] = ticks.get(kind, 0) + used
    return {
        kind: round(n * 1000 / CLOCK_TICKS_PER_S / by, 2)
        for kind, n in sorted(ticks.items(), key=lambda item: -item[1])
    }
