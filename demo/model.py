"""The demo's model: a small CNN (three conv blocks and a linear head) for 32x32 RGB shapes."""

from __future__ import annotations

from typing import Any

__all__ = ["build_model"]


def build_model(num_classes: int, width: int = 16) -> Any:
    """A ``torch.nn.Module`` mapping [N, 3, 32, 32] images to [N, num_classes] logits.

    ``width``: channels of the first conv block (doubled in each of the next two).
    Imports torch when called.
    """
    from torch import nn

    def block(c_in: int, c_out: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(c_in, c_out, kernel_size=3, padding=1),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )

    class ShapesCNN(nn.Module):
        """conv(3->w) -> conv(w->2w) -> conv(2w->4w), each with BatchNorm, ReLU, 2x2 max-pool; then pool + linear."""

        def __init__(self) -> None:
            super().__init__()
            self.features = nn.Sequential(block(3, width), block(width, 2 * width), block(2 * width, 4 * width))
            self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.1),
                                      nn.Linear(4 * width, num_classes))

        def forward(self, x: Any) -> Any:
            return self.head(self.features(x))

    return ShapesCNN()
