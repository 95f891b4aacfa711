"""The benchmark's figures as ratios against the baseline and as the table it prints."""

from __future__ import annotations

from typing import Any

LATENCY_KEYS = ("p50_ms", "p95_ms", "p99_ms")
CPU_COLUMNS = ("referral", "telemedicine", "notifier", "kafka", "postgres", "system_total")


def ratio(numerator: Any, denominator: Any) -> float | None:
    if not isinstance(numerator, int | float) or not isinstance(denominator, int | float):
        return None
    return round(numerator / denominator, 2) if denominator else None


def measured_phases(figures: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each measured phase by its printed name: one at a time, each open-loop rate, capacity."""
    found = {"one at a time": figures["one_at_a_time"]}
    for rate, phase in figures["open_loop"].items():
        found[f"open loop {rate.replace('_per_s', '/s')}"] = phase
    found["capacity"] = figures["capacity"]
    return found


def ratios(fast_track: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
    """Fast Track over bare aiokafka, phase by phase (latency > 1 and throughput < 1 is worse)."""
    base = measured_phases(baseline)
    out: dict[str, Any] = {}
    for name, phase in measured_phases(fast_track).items():
        other = base.get(name, {})
        out[name] = {
            key: ratio(phase.get(key), other.get(key))
            for key in (*LATENCY_KEYS, "throughput_per_s")
        }
    out["highest_sustained_per_s"] = ratio(
        fast_track["sustainable"]["highest_sustained_per_s"],
        baseline["sustainable"]["highest_sustained_per_s"],
    )
    return out


def _row(label: str, cells: list[Any], width: int = 10) -> str:
    return f"{label:24}" + "".join(f"{'-' if c is None else c:>{width}}" for c in cells)


def _latency_table(result: dict[str, Any]) -> list[str]:
    lines = [
        _row("", ["p50 ms", "p95 ms", "p99 ms", "per s", "arrived"]),
    ]
    labels = (("Fast Track", "fast_track"), ("aiokafka", "baseline_aiokafka_two_hops"))
    phases = {key: measured_phases(result[key]) for _, key in labels if key in result}
    for name in phases.get("fast_track", {}):
        lines.append(name)
        for label, key in labels:
            phase = phases.get(key, {}).get(name)
            if phase:
                lines.append(
                    _row(
                        f"  {label}",
                        [
                            *(phase.get(k) for k in LATENCY_KEYS),
                            phase["throughput_per_s"],
                            f"{phase['arrived']}/{phase['offered']}",
                        ],
                    )
                )
        ratio_row = result.get("ratio_fast_track_over_baseline", {}).get(name)
        if ratio_row:
            lines.append(
                _row(
                    "  ratio",
                    [*(ratio_row[k] for k in LATENCY_KEYS), ratio_row["throughput_per_s"]],
                )
            )
    return lines


def _cost_table(fast_track: dict[str, Any]) -> list[str]:
    lines = ["CPU ms per referral (system_total: the three services, Kafka and PostgreSQL)"]
    lines.append(_row("", [*CPU_COLUMNS, "zipkin", "load gen"], 13))
    for name, phase in measured_phases(fast_track).items():
        cpu = phase["cpu_ms_per_referral"]
        lines.append(
            _row(name, [cpu.get(c) for c in (*CPU_COLUMNS, "zipkin", "load generator")], 13)
        )
    idle = fast_track.get("idle_cpu_ms_per_s")
    if idle:
        lines.append(
            _row(
                "idle, ms per second",
                [idle.get(c) for c in (*CPU_COLUMNS, "zipkin", "load generator")],
                13,
            )
        )
    lines += _kafka_threads_table(fast_track)
    lines.append(
        "per referral: SQL statements / round trips / transactions / pool resets / "
        "advisory locks; Kafka records; offset commits; spans"
    )
    for name, phase in measured_phases(fast_track).items():
        sql = phase.get("sql_per_referral", {})
        records = round(sum(phase["kafka_records_per_referral"].values()), 2)
        lines.append(
            f"{name:24}{sql.get('statements')} / {sql.get('round_trips')} / "
            f"{sql.get('transactions')} / {sql.get('pool_resets')} / "
            f"{sql.get('advisory_xact_locks')}; {records}; "
            f"{phase['offset_commit_records_per_referral']}; {phase.get('spans_per_referral')}"
        )
    lines.append(
        "per referral: transactions that wrote / the WAL's flushes to disk (commits waiting "
        "together share one); WAL bytes, all the cluster's / its statements'; full-page images"
    )
    for name, phase in measured_phases(fast_track).items():
        sql = phase.get("sql_per_referral", {})
        lines.append(
            f"{name:24}{sql.get('writing_transactions')} / {sql.get('wal_syncs')}; "
            f"{sql.get('cluster_wal_bytes')} / "
            f"{sql.get('wal_bytes')}; {sql.get('wal_full_page_images')}"
        )
    memory = fast_track["capacity"]["memory_mb"]
    lines.append(
        "memory at the end, MB (RSS / PSS): "
        + ", ".join(f"{name} {m['rss']}/{m['pss']}" for name, m in memory.items())
    )
    return lines


def _kafka_threads_table(fast_track: dict[str, Any]) -> list[str]:
    """Kafka's CPU by kind of JVM thread: the JIT's share falls as the JVM warms."""
    lines = ["Kafka's CPU ms per referral by thread (jit: HotSpot compiling the broker's code)"]
    phases = measured_phases(fast_track)
    if "warmup" in fast_track:
        phases = {f"warm-up ({fast_track['warmup']['arrived']})": fast_track["warmup"], **phases}
    rows = {
        name: phase.get("kafka_cpu_ms_per_referral_by_thread", {}) for name, phase in phases.items()
    }
    idle = fast_track.get("idle_cpu_ms_per_s", {}).get("kafka_by_thread")
    if idle is not None:
        rows["idle, ms per second"] = idle
    for name, split in rows.items():
        lines.append(f"{name:24}" + ", ".join(f"{kind} {ms}" for kind, ms in split.items()))
    return lines


def report(result: dict[str, Any]) -> str:
    if "soak" in result:
        soak = result["soak"]
        lines = [f"soak: {soak['rate_per_s']}/s for {soak['minutes']} min"]
        lines += [
            f"  minute {row['minute']}: p50 {row.get('p50_ms')} p99 {row.get('p99_ms')} ms, "
            f"arrived {row['arrived']}/{row['offered']}, RSS MB "
            + ", ".join(f"{k} {v}" for k, v in row["rss_mb"].items())
            + "; CPU ms/s "
            + ", ".join(f"{k} {v}" for k, v in row.get("cpu_ms_per_s", {}).items())
            for row in soak["minutes_detail"]
        ]
        return "\n".join(lines)
    lines = [
        f"{result['when']}  {result['machine']}  load average at start "
        f"{result['load_average_at_start']}",
        *_latency_table(result),
    ]
    for label, key in (("Fast Track", "fast_track"), ("aiokafka", "baseline_aiokafka_two_hops")):
        search = result[key]["sustainable"]
        lines.append(
            f"highest sustained rate, {label}: {search['highest_sustained_per_s']}/s "
            f"(p99 under {search['p99_limit_ms']:g} ms; probes "
            + ", ".join(
                f"{p['rate_per_s']}{'+' if p['sustained'] else '-'}" for p in search["probes"]
            )
            + ")"
        )
    lines += _cost_table(result["fast_track"])
    return "\n".join(lines)
