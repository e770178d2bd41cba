"""Every text the project holds: the corpora in tests/data and the sessions in samples/."""

from __future__ import annotations

import json

from pipeline.settings import PROJECT_ROOT


def project_texts() -> list[str]:
    texts = []
    for path in sorted((PROJECT_ROOT / "tests" / "data").glob("*.jsonl")) + sorted((PROJECT_ROOT / "samples").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if isinstance(item, dict) and isinstance(item.get("text"), str):
                texts.append(item["text"])
    return texts
