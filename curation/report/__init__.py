"""`curation report`: a self-contained HTML page of a finished run (funnel, signals, dedup, decontamination, examples)."""
