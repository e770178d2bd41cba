"""Measuring the rules: every rule's own hit/miss/todo_hit examples (`claimwatch rules test`) and
precision and recall on labelled corpora (`claimwatch eval`), each case judged on its own.

Owns: example runs, corpora, scores. May import `pipeline.judge` and below.
"""
