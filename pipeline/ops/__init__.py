"""Operating the pipeline: the recording file format, `record`, `replay`, `backtest` (a rule
change tried on a recording), `tail` (alerts as they are published), `up` (broker and worker
together for local use and the demo) and
the benchmarks.

Owns: recordings and what reads or writes them, the local stack, benchmarks. May import
`pipeline.judge`, `pipeline.kafka` and below; it starts the worker as a process, never imports it.
"""
