"""Text as hosts say it: normalization that keeps a map to the original (full-width, traditional,
separators, pinyin annotations), matching by sound (pinyin, initials, homophones), jieba tokens in
spaCy, and numbers said aloud (prices, discounts, amounts).

Owns: everything about a string before any rule looks at it. May import only the standard
library, its text libraries (OpenCC, pypinyin, jieba, spaCy, cn2an) and `pipeline.errors`; knows
nothing of rules, events or Kafka.
"""
