"""One demo run: the PyTorch training loop and everything it logs through ``logger.SummaryWriter``."""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .train import DemoConfig

__all__ = ["train_one", "config_markdown", "lr_factor"]

_PROFILED_STEPS = 5
"""torch.profiler schedule: skip 1 step, warm up 1, record 3 (the trace is written after step 5)."""


def lr_factor(step: int, total: int, warmup: int) -> float:
    """Learning-rate multiplier at ``step``: linear warm-up over ``warmup`` steps, then cosine decay to 5 %."""
    if step < warmup:
        return (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))


def config_markdown(cfg: DemoConfig, lr: float, name: str, device: str) -> str:
    """The run's configuration as a Markdown table (logged as text ``config``)."""
    rows = [("run", name), ("learning rate", f"{lr:g} (AdamW, warm-up + cosine)"), ("epochs", cfg.epochs),
            ("steps per epoch", cfg.steps_per_epoch), ("batch size", cfg.batch_size),
            ("train / val images", f"{cfg.steps_per_epoch * cfg.batch_size} / {cfg.val_size}"),
            ("model", f"3 conv blocks ({cfg.width}-{2 * cfg.width}-{4 * cfg.width} channels) + linear"),
            ("device", device), ("seed", cfg.seed)]
    return "| setting | value |\n| --- | --- |\n" + "\n".join(f"| {k} | {v} |" for k, v in rows)


@contextlib.contextmanager
def _quiet_stderr(active: bool) -> Iterator[None]:
    """Silence file descriptor 2 inside the block when ``active`` (torch's profiler backend prints
    "profiler_start"/"profiler_stop" lines there from C++); Python output is flushed first."""
    if not active:
        yield
        return
    sys.stderr.flush()
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def train_one(cfg: DemoConfig, lr: float, run_dir: str, name: str) -> dict[str, float]:
    """Train a fresh model at ``lr`` for ``cfg.total_steps`` steps, logging into ``run_dir``; returns final val metrics."""
    from logger import SummaryWriter

    # system/* scalars (CPU, memory, GPU) every cfg.system_interval seconds on the writer's own thread.
    with SummaryWriter(run_dir, system_metrics=cfg.system_interval) as writer:
        return _train(cfg, lr, name, run_dir, writer, writer.timer)


def _train(cfg: DemoConfig, lr: float, name: str, run_dir: str, writer: Any, timer: Any) -> dict[str, float]:
    total, bs = cfg.total_steps, cfg.batch_size
    warmup = max(1, total // 10)
    writer.add_scalar("train/lr", lr * lr_factor(0, total, warmup), 0)  # on disk within a second, before torch loads
    writer.flush()

    import torch
    import torch.nn.functional as F  # noqa: N812
    from torch.profiler import ProfilerActivity, profile, record_function, schedule, tensorboard_trace_handler
    from torch.utils.data import DataLoader, TensorDataset

    from .data import CLASSES, train_val
    from .model import build_model
    from .visuals import prediction_grid

    torch.manual_seed(cfg.seed)
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // cfg.runs))
    use_cuda = cfg.device == "cuda" or (cfg.device == "auto" and torch.cuda.is_available())
    if cfg.device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda: no CUDA device is available; pass --device cpu")
    device = torch.device("cuda" if use_cuda else "cpu")
    writer.add_text("config", config_markdown(cfg, lr, name, str(device)), 0)

    (xtr, ytr), (xva, yva) = train_val(cfg.steps_per_epoch * bs, cfg.val_size, cfg.seed)
    loader = DataLoader(TensorDataset(torch.from_numpy(xtr), torch.from_numpy(ytr)), batch_size=bs, shuffle=True,
                        drop_last=True, generator=torch.Generator().manual_seed(cfg.seed))
    xv, yv = torch.from_numpy(xva).to(device), torch.from_numpy(yva).to(device)
    model = build_model(len(CLASSES), cfg.width).to(device)

    def evaluate() -> tuple[float, float, Any, Any]:
        model.eval()
        with torch.no_grad():
            logits = torch.cat([model(xv[i:i + 256]) for i in range(0, len(xv), 256)])
        model.train()
        loss = float(F.cross_entropy(logits, yv))
        probs = torch.softmax(logits, 1)
        preds = probs.argmax(1)
        return loss, float((preds == yv).float().mean()), preds.cpu().numpy(), probs.cpu().numpy()

    def log_val(step: int) -> tuple[float, float, Any, Any]:
        v_loss, v_acc, preds, probs = evaluate()
        writer.add_scalars("loss", {"val": v_loss}, step)
        writer.add_scalars("accuracy", {"val": v_acc}, step)
        writer.add_scalar("val/loss", v_loss, step)
        writer.add_scalar("val/accuracy", v_acc, step)
        return v_loss, v_acc, preds, probs

    v_loss, v_acc, preds, _ = evaluate()
    hparams = {"lr": lr, "seed": cfg.seed, "batch_size": bs, "optimizer": "AdamW", "epochs": cfg.epochs,
               "width": cfg.width}
    # The metrics are the val/* tags: logged here at step 0, and every later value updates the HParams table.
    writer.add_hparams(hparams, {"val/accuracy": v_acc, "val/loss": v_loss})
    writer.add_scalars("loss", {"val": v_loss}, 0)
    writer.add_scalars("accuracy", {"val": v_acc}, 0)
    writer.add_images("samples/inputs", xva[:16], 0)
    writer.add_image("samples/predictions", prediction_grid(xva[:24], yva[:24], preds[:24], CLASSES), 0,
                     dataformats="HWC")
    writer.flush()  # the untrained model's point, the hparams and the inputs show while the optimizer loads
    # torch.optim's first use imports torch._dynamo (seconds on a small CPU): after the first data is out.
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(s, total, warmup))

    def log_histograms(step: int, grads: bool) -> None:
        for pname, p in model.named_parameters():
            if p.dim() < 2:  # conv and linear weights only (BatchNorm scales and biases would crowd the tabs)
                continue
            if grads and p.grad is not None:
                writer.add_histogram(f"gradients/{pname}", p.grad, step)
            elif not grads:
                writer.add_histogram(f"weights/{pname}", p, step)

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if use_cuda else [])
    prof = profile(activities=activities, schedule=schedule(wait=1, warmup=1, active=_PROFILED_STEPS - 2, repeat=1),
                   on_trace_ready=tensorboard_trace_handler(os.path.join(run_dir, "plugins", "profile"), worker_name=name))
    step, win_loss, win_correct, win_n = 0, 0.0, 0, 0
    log_histograms(0, grads=False)
    with _quiet_stderr(True):
        prof.start()
    try:
        for epoch in range(cfg.epochs):
            batches = iter(loader)
            for _ in range(cfg.steps_per_epoch):
                timer.step(step)
                with timer("step", batch_size=bs):
                    with timer("data"):
                        xb, yb = next(batches)
                        xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
                    with timer("forward"), record_function("## forward ##"):
                        out = model(xb)
                        loss = F.cross_entropy(out, yb)
                    with timer("backward"):
                        opt.zero_grad(set_to_none=True)
                        loss.backward()
                    if (step + 1) % cfg.hist_every == 0:
                        log_histograms(step + 1, grads=True)
                    with timer("optimizer"):
                        opt.step()
                        sched.step()
                with _quiet_stderr(step <= _PROFILED_STEPS):
                    prof.step()
                step += 1
                win_loss += float(loss.detach()) * len(yb)
                win_correct += int((out.argmax(1) == yb).sum())
                win_n += len(yb)
                if step == cfg.log_every:  # the first curves are out; now trace the graph (takes a second or two)
                    model.eval()
                    writer.add_graph(model, xv[:2])
                    model.train()
                if step % cfg.log_every == 0:
                    t_loss, t_acc = win_loss / win_n, win_correct / win_n
                    win_loss, win_correct, win_n = 0.0, 0, 0
                    writer.add_scalars("loss", {"train": t_loss}, step)
                    writer.add_scalars("accuracy", {"train": t_acc}, step)
                    writer.add_scalar("train/loss", t_loss, step)
                    writer.add_scalar("train/accuracy", t_acc, step)
                    writer.add_scalar("train/lr", opt.param_groups[0]["lr"], step)
                if step % cfg.hist_every == 0:
                    log_histograms(step, grads=False)
                if step % cfg.eval_every == 0 and step % cfg.steps_per_epoch != 0:
                    log_val(step)
            v_loss, v_acc, preds, probs = log_val(step)
            _epoch_media(writer, step, epoch, cfg, xva, yva, preds, probs, v_loss, v_acc, opt.param_groups[0]["lr"])
            print(f"demo [{name}] epoch {epoch + 1}/{cfg.epochs}: val loss {v_loss:.3f}, val accuracy {v_acc:.1%}",
                  flush=True)
    finally:
        with _quiet_stderr(True):
            prof.stop()
    return {"val_loss": v_loss, "val_accuracy": v_acc}


def _epoch_media(writer: Any, step: int, epoch: int, cfg: DemoConfig, xva: Any, yva: Any, preds: Any, probs: Any,
                 v_loss: float, v_acc: float, lr_now: float) -> None:
    """The once-per-epoch summaries: predictions, confusion matrix, PR curves, a tone and a note."""
    import numpy as np

    from .data import CLASSES as classes
    from .visuals import confusion_image, confusion_matrix, prediction_grid, tone

    writer.add_image("samples/predictions", prediction_grid(xva[:24], yva[:24], preds[:24], classes), step,
                     dataformats="HWC")
    cm = confusion_matrix(yva, preds, len(classes))
    writer.add_image("confusion_matrix", confusion_image(cm, classes), step, dataformats="HWC")
    for c, cname in enumerate(classes):
        writer.add_pr_curve(f"pr/{cname}", (yva == c).astype(np.int64), probs[:, c], step)
    # The tone rises two octaves from 220 Hz as validation accuracy goes from 0 to 100 %.
    writer.add_audio("sonified/val_accuracy", tone(220.0 * 2 ** (2 * v_acc)), step, sample_rate=16000)
    off = cm.copy()
    np.fill_diagonal(off, 0)
    i, j = np.unravel_index(int(off.argmax()), off.shape)
    worst = f"{classes[i]} taken for {classes[j]} ({off[i, j]}x)" if off[i, j] else "none"
    done = " Training **finished**." if epoch + 1 == cfg.epochs else ""
    writer.add_text("notes", f"**epoch {epoch + 1}/{cfg.epochs}** (step {step}): val accuracy **{v_acc:.1%}**, "
                             f"val loss {v_loss:.3f}, lr {lr_now:.2g}; most frequent confusion: {worst}.{done}", step)
