"""Test support shared by integration and browser tests: real torch.profiler traces of a tiny model.

Imported as ``tests.torch_profiling`` (the repository root is on ``sys.path`` under pytest). Needs torch.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["profile_tiny_model"]


def profile_tiny_model(trace_dir: Path, use_gzip: bool = False) -> None:
    """Train a tiny model from a DataLoader under torch.profiler (CPU, wait=0 warmup=1 active=2), writing
    its trace with ``tensorboard_trace_handler(trace_dir)`` (gzipped with ``use_gzip``)."""
    import torch
    from torch.profiler import ProfilerActivity, profile, schedule, tensorboard_trace_handler
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loader = DataLoader(TensorDataset(torch.randn(64, 8), torch.randn(64, 1)), batch_size=8)
    with profile(
        activities=[ProfilerActivity.CPU],
        schedule=schedule(wait=0, warmup=1, active=2, repeat=1),
        on_trace_ready=tensorboard_trace_handler(str(trace_dir), use_gzip=use_gzip),
    ) as prof:
        for i, (x, y) in enumerate(loader):
            loss = torch.nn.functional.mse_loss(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            prof.step()
            if i >= 3:
                break
