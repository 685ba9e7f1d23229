"""``SummaryWriter.file_writer``: torch's ``FileWriter`` API (add_event, add_summary, ...) over one :class:`EventFileWriter`."""

from __future__ import annotations

import time
from typing import Any

from logger.event_file import EventFileWriter

__all__ = ["FileWriter"]


class FileWriter:
    """What torch's ``SummaryWriter.file_writer`` is: protos in, one event file out.

    ``event_writer`` is the :class:`~logger.event_file.EventFileWriter` doing the work
    (queue + writer thread). Events are serialized on the calling thread (these are
    rare, user-built protos); ``SummaryWriter.add_*`` does not go through here.
    """

    def __init__(self, event_writer: EventFileWriter) -> None:
        self.event_writer = event_writer

    def get_logdir(self) -> str:
        """Directory (or URL) where the event file is written."""
        return self.event_writer.get_logdir()

    def add_event(self, event: Any, step: int | None = None, walltime: float | None = None) -> None:
        """Write an ``Event`` proto; sets its ``wall_time`` (now, or ``walltime`` seconds) and ``step`` if given."""
        from logger._pb import event_pb2

        if not isinstance(event, event_pb2.Event):  # e.g. tensorboard's own Event class: same wire format
            event = event_pb2.Event.FromString(event.SerializeToString())
        event.wall_time = time.time() if walltime is None else walltime
        if step is not None:
            event.step = int(step)
        self.event_writer.put_raw(event.SerializeToString())

    def add_summary(self, summary: Any, global_step: int | None = None, walltime: float | None = None) -> None:
        """Write a ``Summary`` proto wrapped in an Event at ``global_step``."""
        from logger._pb import event_pb2

        self.add_event(event_pb2.Event(summary=_summary(summary)), global_step, walltime)

    def add_graph(self, graph_profile: Any, walltime: float | None = None) -> None:
        """Write ``(GraphDef, RunMetadata)`` as torch's FileWriter does (graph_def event + tagged run metadata ``step1``)."""
        from logger._pb import event_pb2

        graph, stepstats = graph_profile
        self.add_event(event_pb2.Event(graph_def=graph.SerializeToString()), None, walltime)
        trm = event_pb2.TaggedRunMetadata(tag="step1", run_metadata=stepstats.SerializeToString())
        self.add_event(event_pb2.Event(tagged_run_metadata=trm), None, walltime)

    def add_onnx_graph(self, graph: Any, walltime: float | None = None) -> None:
        """Write a ``GraphDef`` proto as a graph_def event."""
        from logger._pb import event_pb2

        self.add_event(event_pb2.Event(graph_def=graph.SerializeToString()), None, walltime)

    def flush(self) -> None:
        """Write everything queued to the file (or upload it, for a remote log dir)."""
        self.event_writer.flush()

    def close(self) -> None:
        """Flush and close the event file."""
        self.event_writer.close()


def _summary(summary: Any) -> Any:
    """``summary`` as our Summary class (accepts tensorboard's/TensorFlow's: same wire format)."""
    from logger._pb import summary_pb2

    if isinstance(summary, summary_pb2.Summary):
        return summary
    return summary_pb2.Summary.FromString(summary.SerializeToString())
