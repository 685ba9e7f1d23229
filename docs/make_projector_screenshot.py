"""Make docs/projector.png: a digit-image embedding written by torch's add_embedding, served, one point clicked.

Usage (from the repository root)::

    python docs/make_projector_screenshot.py

Needs torch, Playwright's Python package and /usr/bin/chromium. The data is generated here
(digits 0-9 drawn with Pillow's built-in font, jittered; the "features" are the pixels plus
noise), so nothing is downloaded. The PNG is quantised to 256 colours.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

__all__ = ["main", "write_digits"]

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "projector.png"
GRAPH = "document.querySelector('#projector-graph .js-plotly-plot')"


def write_digits(logdir: Path, n: int = 1500, seed: int = 0) -> None:
    """``n`` 16x16 digit images as an embedding (metadata: digit, parity, brightness) with a sprite."""
    import numpy as np
    import torch
    from PIL import Image, ImageDraw, ImageFont
    from torch.utils.tensorboard import SummaryWriter

    rng = np.random.default_rng(seed)
    font = ImageFont.load_default()
    imgs, meta = [], []
    for _ in range(n):
        d = int(rng.integers(0, 10))
        im = Image.new("L", (16, 16))
        ImageDraw.Draw(im).text((4 + int(rng.integers(-2, 3)), 1 + int(rng.integers(-1, 3))), str(d), fill=255, font=font)
        a = np.asarray(im, np.float32) / 255 * float(rng.uniform(0.6, 1.0))
        imgs.append(a)
        meta.append([f"digit {d}", "even" if d % 2 == 0 else "odd", f"{a.mean():.3f}"])
    x = np.stack(imgs).reshape(n, -1) + rng.normal(0, 0.15, size=(n, 256)).astype(np.float32)
    label_img = torch.from_numpy(np.stack(imgs)[:, None].repeat(3, axis=1))
    w = SummaryWriter(str(logdir / "digits"))
    w.add_embedding(torch.from_numpy(x.astype(np.float32)), metadata=meta, metadata_header=["digit", "parity", "ink"],
                    label_img=label_img, tag="pixels", global_step=100)
    w.add_scalar("loss", 0.1, 100)
    w.close()


def main() -> int:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        write_digits(Path(tmp))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        proc = subprocess.Popen([sys.executable, "-m", "vizboard", "serve", tmp, "--port", str(port)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/api/version", timeout=2).read()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            with sync_playwright() as p:
                b = p.chromium.launch(executable_path="/usr/bin/chromium",
                                      args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
                page = b.new_page(viewport={"width": 1400, "height": 900})
                page.goto(f"http://127.0.0.1:{port}/?tab=projector")
                page.wait_for_function(f"() => {{ const g = {GRAPH}; return g && g.data && g.data.length === 3 && "
                                       f"g.data[0].x.length > 0; }}", timeout=180_000)
                page.locator("#projector-search").fill("digit 7")
                xy = page.evaluate(f"""() => {{ const g = {GRAPH}; const xa = g._fullLayout.xaxis, ya = g._fullLayout.yaxis;
                    const i = g.data[0].text.findIndex(t => t === 'digit 3');
                    return [xa._offset + xa.d2p(g.data[0].x[i]), ya._offset + ya.d2p(g.data[0].y[i])]; }}""")
                box = page.locator("#projector-graph .js-plotly-plot").bounding_box()
                page.mouse.click(box["x"] + xy[0], box["y"] + xy[1])
                page.locator("#projector-details ol li").first.wait_for(timeout=60_000)
                page.mouse.move(5, 5)
                time.sleep(1.0)
                page.screenshot(path=str(OUT))
                b.close()
        finally:
            proc.terminate()
            proc.wait(10)
    from PIL import Image

    Image.open(OUT).convert("RGB").quantize(256).save(OUT, optimize=True)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
