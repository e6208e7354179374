"""Anchor B of pushrelay-bench: PgQueuer's throughput for no-op jobs on the same PostgreSQL.

Enqueues N no-op jobs in bulk, then drains them with one QueueManager (batch_size and concurrency as
given) and prints one JSON line: {"jobs": N, "seconds": S, "jobs_per_second": N/S}.
Usage: python pgqueuer_anchor.py DSN N [batch_size]
"""

import asyncio
import json
import sys
import time

import asyncpg
from pgqueuer.db import AsyncpgDriver
from pgqueuer.qm import QueueManager
from pgqueuer.queries import Queries
from pgqueuer import types


async def main(dsn: str, count: int, batch_size: int) -> None:
    connection = await asyncpg.connect(dsn)
    driver = AsyncpgDriver(connection)
    queries = Queries(driver)
    await queries.install()
    for start in range(0, count, 1000):
        size = min(1000, count - start)
        await queries.enqueue(["noop"] * size, [None] * size, [0] * size)

    manager = QueueManager(queries)

    @manager.entrypoint("noop")
    async def noop(job) -> None:
        return None

    started = time.perf_counter()
    await manager.run(batch_size=batch_size, mode=types.QueueExecutionMode.drain)
    seconds = time.perf_counter() - started
    print(json.dumps({"jobs": count, "seconds": seconds, "jobs_per_second": count / seconds}))
    await connection.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 10))
