"""YAML read into a tree of nodes that remember their line, so data-file errors can name it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml


@dataclass
class Node:
    """One YAML value with the line it starts on (a mapping value: the line of its key)."""

    value: Any
    line: int
    children: dict[str, Node] = field(default_factory=dict)
    items: list[Node] = field(default_factory=list)


def convert(node: yaml.Node) -> Node:
    """The tree for a composed YAML node (``yaml.compose``), scalars built as ``yaml.safe_load`` would."""
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out = Node({}, line)
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = convert(value_node)
            child.line = key_node.start_mark.line + 1 if not isinstance(value_node, yaml.ScalarNode) else child.line
            out.children[key] = child
            out.value[key] = child.value
        return out
    if isinstance(node, yaml.SequenceNode):
        items = [convert(n) for n in node.value]
        return Node([i.value for i in items], line, items=items)
    loader = yaml.SafeLoader("")
    try:
        return Node(loader.construct_object(node, deep=True), line)
    finally:
        loader.dispose()
