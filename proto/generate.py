"""Regenerate the committed protobuf modules in logger/_pb/ from proto/logger/_pb/*.proto.

Run it with grpcio-tools==1.62.3 (protoc 25.1) in a throwaway venv (it needs protobuf < 5):
its gencode loads on every protobuf runtime from 3.20.3 to the newest (7.x), which newer
protoc output does not (it checks the runtime is at least its own version).
tests/integration/test_logger_envs.py checks the committed files are exactly its output.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

PROTO_ROOT = Path(__file__).resolve().parent
REPO_ROOT = PROTO_ROOT.parent
PROTO_SUBDIR = Path("logger") / "_pb"


def _well_known_include() -> Path:
    """Return grpc_tools' bundled include dir (google/protobuf/*.proto)."""
    try:
        import grpc_tools
    except ImportError as exc:  # pragma: no cover - depends on environment
        raise SystemExit("grpcio-tools is required: pip install grpcio-tools") from exc
    return Path(grpc_tools.__file__).resolve().parent / "_proto"


def proto_files() -> list[str]:
    """Proto sources relative to PROTO_ROOT, sorted for deterministic output."""
    return sorted(p.relative_to(PROTO_ROOT).as_posix() for p in (PROTO_ROOT / PROTO_SUBDIR).glob("*.proto"))


def generate(out: Path) -> list[Path]:
    """Run protoc, writing *_pb2.py and *_pb2.pyi under out/logger/_pb/; return written paths."""
    out = out.resolve()
    (out / PROTO_SUBDIR).mkdir(parents=True, exist_ok=True)
    files = proto_files()
    cmd = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        "-I.",
        f"-I{_well_known_include()}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        *files,
    ]
    # Run from PROTO_ROOT with relative paths so nothing machine-specific ends
    # up in the generated files.
    subprocess.run(cmd, cwd=PROTO_ROOT, check=True)
    written = []
    for name in files:
        stem = (out / name).with_suffix("")
        written += [stem.with_name(stem.name + "_pb2.py"), stem.with_name(stem.name + "_pb2.pyi")]
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO_ROOT,
        help="directory that receives logger/_pb/*_pb2.py[i] (default: the repository root)",
    )
    args = parser.parse_args(argv)
    for path in generate(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
