"""Figures and tables of a run for the Snakemake report and `tsmsnet spot`: score curves with
ground-truth and predicted intervals, training losses, F1 tables. matplotlib's object API only
(no pyplot state), so jobs and tests can draw in parallel and the output is deterministic."""
