"""Models that ship with the core runtime (for its own recipe, benchmarks and tests)."""
