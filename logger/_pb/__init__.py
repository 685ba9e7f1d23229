"""Generated protobuf modules; do not edit; regenerate with proto/generate.py."""
