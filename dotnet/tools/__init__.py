"""The tools built on the pipeline: check, lint, summary, shapes, render and extract."""
