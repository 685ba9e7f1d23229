"""vizboard's data layer: discovery, tailing, decoding and the in-memory store of a logdir.

Public API (everything else in this package is internal):

- :class:`Store` - implements :class:`DataProvider` (``vizboard.data.provider``) for one
  logdir (local path or fsspec URL such as ``s3://bucket/prefix``). Readers call it
  from any thread; it never blocks on ingestion.
- :class:`Ingestor` - keeps a Store up to date: ``Ingestor(store, poll=False,
  reload_interval=None)``, ``start()`` (watcher + ingest thread, returns at once),
  ``wait_until_loaded(timeout) -> bool`` (first full pass done), ``stop()`` (joins
  the threads). Also a context manager. ``run_once()`` does one synchronous pass.
- :func:`load` - ``load(logdir) -> Store``: one complete synchronous load, no threads
  (for export, ``read_scalars`` and benchmarks).

Typical server use::

    store = Store(logdir)
    ingestor = Ingestor(store, poll=config.poll, reload_interval=config.reload_interval)
    ingestor.start()
    ...  # hand `store` to the app as its DataProvider
    ingestor.stop()
"""

from __future__ import annotations

from vizboard.data.ingest import Ingestor, load
from vizboard.data.provider import DataProvider
from vizboard.data.store import Store

__all__ = ["Store", "Ingestor", "load", "DataProvider"]
