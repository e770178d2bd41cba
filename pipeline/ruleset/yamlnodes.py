"""Line numbers from a rule file's YAML node tree, so every problem names its line."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import yaml


def child(node: yaml.Node | None, key: Any) -> yaml.Node | None:
    """A mapping's value for `key`, or a sequence's item at index `key`; None if there is none."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == key:
                found: yaml.Node = value_node
                return found
    elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
        item: yaml.Node = node.value[key]
        return item
    return None


def node_at(node: yaml.Node | None, loc: tuple[Any, ...]) -> yaml.Node | None:
    """Follow a path (mapping keys and sequence indexes, as pydantic reports them) as far as it
    goes: the deepest node found, for the nearest line to an error."""
    for key in loc:
        found = child(node, key)
        if found is None:
            return node
        node = found
    return node


def line_of(root: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    node = node_at(root, loc)
    return node.start_mark.line + 1 if node is not None else None


def first_scalar(node: yaml.Node | None, wanted: Callable[[str], bool]) -> yaml.ScalarNode | None:
    """The first scalar under a node, in file order, whose text satisfies `wanted`."""
    if isinstance(node, yaml.ScalarNode):
        return node if wanted(str(node.value)) else None
    if isinstance(node, yaml.MappingNode):
        children: list[yaml.Node] = [value for _, value in node.value]
    elif isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    else:
        return None
    for item in children:
        if (found := first_scalar(item, wanted)) is not None:
            return found
    return None


def scalars_under(
    node: yaml.Node, keys: frozenset[str], path: tuple[Any, ...] = ()
) -> Iterator[tuple[tuple[Any, ...], yaml.ScalarNode]]:
    """Every scalar value of a mapping key in `keys`, anywhere in the tree, with its path."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            here = (*path, key_node.value)
            if key_node.value in keys and isinstance(value_node, yaml.ScalarNode):
                yield here, value_node
            else:
                yield from scalars_under(value_node, keys, here)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from scalars_under(item, keys, (*path, i))


def format_loc(loc: tuple[Any, ...]) -> str:
    """rules[3].match.any[2].regex"""
    parts: list[str] = []
    for key in loc:
        parts.append(f"[{key}]" if isinstance(key, int) else ("." if parts else "") + str(key))
    return "".join(parts)
