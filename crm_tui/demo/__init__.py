"""Demo data generators for `crm demo` and the benchmarks. Not business rules: they write
through the domain (or Core inserts of what the domain would write)."""
