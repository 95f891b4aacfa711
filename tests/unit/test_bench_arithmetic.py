"""The benchmark's arithmetic: percentiles, /proc parsing, per-referral costs, the rate search."""

from __future__ import annotations

import os

import pytest

from bench.counters import DatabaseCounts, StatementCounts, records_between
from bench.latency import latency_percentiles
from bench.load import PhaseResult, next_probe, sustained
from bench.measure import statement_figures
from bench.procstat import (
    CLOCK_TICKS_PER_S,
    ProcessStat,
    Usage,
    cpu_ms_by_thread_kind,
    cpu_ms_per_item,
    cpu_ms_per_second,
    jvm_thread_kind,
    parse_pss_kb,
    parse_stat,
    parse_thread_stat,
    read_stat,
    thread_ticks,
    tree_of,
)
from bench.profile_services import parse_raw, shares
from bench.report import ratio
from tests.support import ROOT


def test_percentiles_of_one_to_a_hundred_milliseconds_interpolate_between_ranks() -> None:
    # Inclusive quantiles: the p-th percentile sits at rank 1 + 99p of the hundred, between two
    # measured values where that is not a whole number (p95: 95.05 ms, shown as 95.1).
    figures = latency_percentiles([n / 1000 for n in range(100, 0, -1)])
    assert figures == {
        "count": 100,
        "p50_ms": 50.5,
        "p95_ms": 95.1,
        "p99_ms": 99.0,
        "max_ms": 100.0,
    }


# A /proc/<pid>/stat line (proc(5)) whose command name holds a space and parentheses, as a
# PostgreSQL backend's title or a Java thread may: fields are counted from the last ")".
STAT_LINE = (
    "4242 (postgres: (fasttrack) idle) S 4200 4200 4200 0 -1 4194560 1000 0 0 0 "
    "150 25 7 3 20 0 1 0 12345 104857600 2560 18446744073709551615 1 1 0 0 0 0 0 "
    "4096 1 0 0 0 17 1 0 0 0 0 0"
)


def test_a_stat_line_gives_the_parent_the_cpu_ticks_and_the_resident_pages() -> None:
    assert parse_stat(STAT_LINE) == ProcessStat(
        pid=4242, ppid=4200, cpu_ticks=175, reaped_children_ticks=10, rss_pages=2560
    )


def test_the_stat_of_this_very_process_is_read_from_proc() -> None:
    stat = read_stat(os.getpid())
    assert stat is not None
    assert stat.pid == os.getpid()
    assert stat.ppid == os.getppid()
    assert stat.rss_pages > 0


def test_the_proportional_set_size_is_read_from_smaps_rollup() -> None:
    rollup = "55d0-7ffd ---p 00000000 00:00 0 [rollup]\nRss: 9000 kB\nPss: 4321 kB\n"
    assert parse_pss_kb(rollup) == 4321
    assert parse_pss_kb("Rss: 1 kB\n") == 0


def _stat(pid: int, ppid: int) -> ProcessStat:
    return ProcessStat(pid=pid, ppid=ppid, cpu_ticks=1, reaped_children_ticks=0, rss_pages=1)


def test_a_process_tree_holds_the_root_its_children_and_theirs_but_no_stranger() -> None:
    stats = {s.pid: s for s in (_stat(1, 0), _stat(10, 1), _stat(11, 10), _stat(12, 10))}
    stats[99] = _stat(99, 1)
    assert sorted(s.pid for s in tree_of(10, stats)) == [10, 11, 12]
    assert tree_of(50, stats) == []


def _usage(cpu_s: float) -> Usage:
    return Usage(cpu_s=cpu_s, rss_mb=0, pss_mb=0, processes=1)


@pytest.mark.parametrize(
    ("before_s", "after_s", "referrals", "expected_ms"),
    [
        (1.0, 3.0, 100, 20.0),  # two CPU seconds over a hundred referrals
        (5.0, 5.0, 10, 0.0),
        (0.0, 1.0 / CLOCK_TICKS_PER_S, 1, round(1000 / CLOCK_TICKS_PER_S, 2)),  # one tick
    ],
)
def test_cpu_per_referral_is_the_cpu_time_used_in_the_phase_over_its_referrals(
    before_s: float, after_s: float, referrals: int, expected_ms: float
) -> None:
    per = cpu_ms_per_item({"kafka": _usage(before_s)}, {"kafka": _usage(after_s)}, referrals)
    assert per == {"kafka": expected_ms}


def test_no_referral_gives_no_cpu_figure_rather_than_a_division_by_zero() -> None:
    assert cpu_ms_per_item({"kafka": _usage(0)}, {"kafka": _usage(1)}, 0) == {}


def test_records_written_are_the_growth_of_each_topics_end_offsets() -> None:
    before = {"a": 10, "b": 5}
    after = {"a": 13, "b": 5, "c": 2}
    assert records_between(before, after) == {"a": 3, "c": 2}


def test_a_pool_reset_is_four_statements_in_one_round_trip() -> None:
    counts = DatabaseCounts(statements=100, transactions=10, pool_resets=5, advisory_locks=2)
    assert counts.round_trips() == 85


def test_a_statement_planned_at_every_call_shows_one_plan_per_call() -> None:
    statement = StatementCounts(
        query="UPDATE outbox", calls=40, plans=40, plan_ms=8.0, exec_ms=12.0, wal_bytes=4000
    )
    figures = statement_figures(statement, per=20)
    assert figures["plans_per_call"] == 1.0
    assert figures["calls_per_referral"] == 2.0
    assert (figures["plan_ms_per_referral"], figures["wal_bytes_per_referral"]) == (0.4, 200)


def _phase(offered: int, arrived: int, p99_ms: float, failed: int = 0) -> PhaseResult:
    return PhaseResult(
        offered=offered,
        arrived=arrived,
        failed_sends=failed,
        target_rate_per_s=10,
        offered_rate_per_s=10,
        throughput_per_s=10,
        latency={"p99_ms": p99_ms},
        wall_s=1,
    )


@pytest.mark.parametrize(
    ("phase", "expected"),
    [
        (_phase(100, 100, 400), True),
        (_phase(100, 100, 1000), True),  # at the limit
        (_phase(100, 100, 1000.1), False),  # too slow at the tail
        (_phase(100, 99, 10), False),  # one referral never arrived
        (_phase(100, 100, 10, failed=1), False),  # one send was refused
    ],
)
def test_a_rate_is_sustained_when_all_arrive_none_fail_and_the_p99_is_under_the_limit(
    phase: PhaseResult, expected: bool
) -> None:
    assert sustained(phase, p99_limit_ms=1000) is expected


@pytest.mark.parametrize(
    ("lowest_failed", "highest_sustained", "expected"),
    [
        (None, 10, 20),  # nothing failed yet: double
        (None, 300, 400),  # ... but never above the maximum
        (None, 0, 1),  # nothing sustained at all: start from one a second
        (40, 20, 30),  # between the last success and the first failure
        (10, 0, 5),  # the first probe failed: halve it
    ],
)
def test_the_search_doubles_until_a_failure_then_halves_the_gap(
    lowest_failed: float | None, highest_sustained: float, expected: float
) -> None:
    assert next_probe(lowest_failed, highest_sustained, max_rate=400) == expected


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(10, 5, 2.0), (1, 3, 0.33), (1, 0, None), (None, 2, None)],
)
def test_a_ratio_is_rounded_and_missing_when_it_cannot_be_taken(
    numerator: float | None, denominator: float | None, expected: float | None
) -> None:
    assert ratio(numerator, denominator) == expected


def test_a_profile_is_summed_by_the_library_each_sample_was_in() -> None:
    """py-spy's raw stacks (outermost first, a count per stack) become shares per library:
    "self" by the innermost known frame, "inclusive" by any frame, and the project's functions."""
    lib = "/venv/lib/python3.11/site-packages"
    consume = f"FhirMessageConsumer.handle ({ROOT}/shared/messaging/consumer.py:170)"
    validate = f"BaseModel.model_validate ({lib}/pydantic/main.py:700)"
    send = "_SelectorSocketTransport.write (/usr/lib/python3.11/asyncio/selector_events.py:1)"
    raw = [
        f"MainThread;run (/usr/lib/python3.11/asyncio/runners.py:1);{consume};{validate} 3\n",
        f"MainThread;run (/usr/lib/python3.11/asyncio/runners.py:1);{consume};{send} 1\n",
        "not a stack line\n",
    ]
    summary = shares(parse_raw(raw))
    assert summary["samples"] == 4
    assert summary["self_percent"] == {"fhir.resources/pydantic": 75.0, "asyncio": 25.0}
    assert summary["inclusive_percent"]["project"] == 100.0
    assert summary["inclusive_percent"]["asyncio"] == 100.0
    assert summary["project_inclusive_percent"] == {
        "shared/messaging/consumer.py:FhirMessageConsumer.handle": 100.0
    }


def test_idle_cpu_is_per_second_of_each_part() -> None:
    before = {"kafka": Usage(cpu_s=10.0, rss_mb=1, pss_mb=1, processes=1)}
    after = {"kafka": Usage(cpu_s=10.5, rss_mb=1, pss_mb=1, processes=1)}
    assert cpu_ms_per_second(before, after, 10.0) == {"kafka": 50.0}
    assert cpu_ms_per_second(before, after, 0) == {}


# A JVM thread's /proc/<pid>/task/<tid>/stat line: Linux keeps 15 characters of its name.
THREAD_STAT_LINE = (
    "4250 (C2 CompilerThre) S 1 4242 4242 0 -1 4194368 90 0 0 0 "
    "340 12 0 0 20 0 60 0 12400 3000000000 90000 18446744073709551615 1 1 0 0 0 0 0 "
    "4096 1 0 0 0 17 0 0 0 0 0 0"
)


def test_a_thread_stat_line_gives_its_name_and_cpu_ticks() -> None:
    assert parse_thread_stat(THREAD_STAT_LINE) == ("C2 CompilerThre", 352)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("C2 CompilerThre", "jit"),
        ("C1 CompilerThre", "jit"),
        ("G1 Conc#0", "gc and vm"),
        ("GC Thread#1", "gc and vm"),
        ("VM Thread", "gc and vm"),
        ("data-plane-kafk", "requests"),
        ("kafka-1-raft-io", "kraft"),
        ("quorum-controll", "kraft"),
        ("broker-1-to-con", "kraft"),
        ("group-coordinat", "group coordinator"),
        ("ExpirationReape", "purgatory"),
        ("main", "other"),
    ],
)
def test_a_kafka_jvm_thread_is_told_by_its_name(name: str, kind: str) -> None:
    assert jvm_thread_kind(name) == kind


def test_cpu_by_thread_kind_counts_what_each_thread_used_between_the_samples() -> None:
    before = {1: ("C2 CompilerThre", 500), 2: ("data-plane-kafk", 40), 3: ("data-plane-kafk", 10)}
    after = {
        1: ("C2 CompilerThre", 700),  # 200 ticks of compiling
        2: ("data-plane-kafk", 50),  # 10 + 15: both request threads
        3: ("data-plane-kafk", 25),
        4: ("G1 Conc#0", 5),  # started meanwhile: all of its 5
        # tid 5 reused by a thread of another name: counted from zero
        5: ("group-coordinat", 3),
    }
    before[5] = ("executor-Fetch", 1000)
    per_tick_ms = 1000 / CLOCK_TICKS_PER_S
    assert cpu_ms_by_thread_kind(before, after, 10) == {
        "jit": round(200 * per_tick_ms / 10, 2),
        "requests": round(25 * per_tick_ms / 10, 2),
        "gc and vm": round(5 * per_tick_ms / 10, 2),
        "group coordinator": round(3 * per_tick_ms / 10, 2),
    }
    assert list(cpu_ms_by_thread_kind(before, after, 10)) == [  # the largest first
        "jit",
        "requests",
        "gc and vm",
        "group coordinator",
    ]
    assert cpu_ms_by_thread_kind(before, after, 0) == {}


def test_the_threads_of_this_very_process_are_read_from_proc() -> None:
    threads = thread_ticks(os.getpid())
    assert os.getpid() in threads  # the main thread's tid is the pid
    assert all(ticks >= 0 for _, ticks in threads.values())
    assert thread_ticks(2**22 + 1) == {}  # above pid_max: no such process
