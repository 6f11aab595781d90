"""Dask worker preload: count the bytes the worker reads from its TCP connections.

`dask worker ... --preload benchmarks/_wire_bytes.py`, then `Client.run(received)` (this module is
`_wire_bytes` in the worker). It counts every message body the worker receives: tasks from the
scheduler, data scattered to it, copies fetched from other workers. Dask has no such total of its
own: its worker metrics count the transfers between workers, and nothing counts what a client
scatters. The leading underscore keeps `benchmarks/run_all.py` from running it as a benchmark.
"""

from __future__ import annotations

from distributed.comm import tcp

_read_bytes_rw = tcp.read_bytes_rw
_received = 0


async def _counted(stream, n: int):
    global _received
    _received += n
    return await _read_bytes_rw(stream, n)


def dask_setup(worker) -> None:
    """Count from here on: every frame `TCP.read` takes off a socket goes through this."""
    tcp.read_bytes_rw = _counted


def received() -> int:
    """Bytes read from TCP by this worker process since it started."""
    return _received
