"""Side-by-side benchmarks of vizboard against the tools a user would pick instead (``python -m bench``)."""
