"""One memory case in a fresh process; prints a JSON line with its peak RSS.

python -m benchmarks.memory write_generator 10000000
python -m benchmarks.memory write_list 1000000          (legacy_write_list: influxdb-python 5.3.2)
python -m benchmarks.memory query_chunked 1000000
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from benchmarks import workload
from benchmarks.sink import RemoteSink


def main() -> None:
    case, n = sys.argv[1], int(sys.argv[2])
    import influxdb

    import influx_compat

    sink = RemoteSink()
    try:
        sink.keep_bodies(False)
        client: Any = influx_compat.InfluxDBClient(
            url=sink.url, token="bench-token", org="bench", database="bench"
        )
        if case.startswith("legacy_"):
            client = influxdb.InfluxDBClient(port=sink.port, database="bench")
        client.ping()
        # influxdb-python 5.3.2 batches lists only (it takes len()): the list cases build theirs first
        points = workload.workload_points(n) if case.endswith("write_list") else None
        base = _vm("VmHWM")  # everything imported, connected and built, nothing written yet
        start = time.perf_counter()
        if case in ("write_generator", "legacy_write_generator"):
            client.write_points(workload.iter_workload(n), "ms", batch_size=10_000)
            received = sink.stats()["lines"]
        elif case in ("write_list", "legacy_write_list"):
            client.write_points(points, "ms", batch_size=10_000)
            received = sink.stats()["lines"]
        elif case == "query_chunked":
            sink.answer(n, chunk=10_000)
            received = 0
            for result in client.query("SELECT * FROM cpu", chunked=True, chunk_size=10_000):
                received += sum(1 for _ in result.get_points())
        else:
            raise SystemExit(f"unknown case {case}")
        seconds = time.perf_counter() - start
    finally:
        sink.close()
    if received != n:
        raise SystemExit(f"{case}: {received} of {n} arrived")
    # VmHWM, not ru_maxrss: on Linux ru_maxrss survives exec, so a child would report its parent's peak.
    peak = _vm("VmHWM")
    print(
        json.dumps(
            {
                "case": case,
                "n": n,
                "base_mib": base,
                "peak_mib": peak,
                "seconds": seconds,
                "received": received,
            }
        )
    )


def _vm(key: str) -> float:
    """A /proc/self/status memory figure in MiB (VmHWM: the peak so far)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


if __name__ == "__main__":
    main()
