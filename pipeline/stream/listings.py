"""Listings in the worker: kept in a Faust GlobalTable (JSON, backed by its changelog, so every
worker knows every product), read through the judge's `ListingStore` interface."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from models.events import ProductListing


class TableListings:
    """A product's listing versions in a table of JSON lists. Each stored value is parsed once:
    the table holds that object until a new version replaces it (here or from the changelog)."""

    def __init__(self, table: MutableMapping[str, Any]):
        self.table = table
        self._parsed: dict[str, tuple[Any, list[ProductListing]]] = {}

    def versions(self, product_id: str) -> list[ProductListing]:
        stored = self.table.get(product_id)
        cached = self._parsed.get(product_id)
        if cached is not None and cached[0] is stored:
            return cached[1]
        versions = [ProductListing.model_validate(v) for v in stored or []]
        self._parsed[product_id] = (stored, versions)
        return versions

    def put(self, product_id: str, versions: list[ProductListing]) -> None:
        self.table[product_id] = [v.model_dump(mode="json") for v in versions]
