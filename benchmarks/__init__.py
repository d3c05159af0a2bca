"""chainrule's benchmarks: ``python -m benchmarks [--quick]`` (see README.md here)."""
