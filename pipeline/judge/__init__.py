"""Events in, alerts out: the one `Judge` that `claimwatch scan` and the stream worker both call.
Records are decoded and validated; a segment is joined to the listing in force at its time,
detected, joined with the room's earlier segments for claims split across them, passed through
the repeat window, and turned into alerts with stable ids. State lives in mappings the caller
gives (dicts for `scan`, Faust tables for the worker).

Owns: decoding records, listing history, the split-claim and repeat windows, building alerts,
counters, `scan`. May import `pipeline.detect` and below; never Kafka or Faust.
"""
