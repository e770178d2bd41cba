"""Detection on one text: the engine compiles a rule set once, then analyses a text (one
Aho-Corasick pass for terms, one spaCy Matcher pass for token patterns, RE2 for regexes), judges
each rule's hits against its named exceptions and, for a rule that `contradicts` the listing,
against the product's facts, and returns findings that carry everything an alert needs.

Owns: analysis, matchers, exception predicates, listing contradictions, product facts, the
engine and its explanation. May import `pipeline.text`, `pipeline.ruleset`, `models` and
`pipeline.errors`; knows nothing of events over time, alerts' ids or Kafka.
"""
