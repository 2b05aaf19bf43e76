"""Reading YAML that someone else wrote, within bounds: size, nesting and alias expansion.

A YAML alias reuses a node, so 535 bytes of nested aliases (the "billion laughs") make a
document of millions of nodes once anything walks it: validation, hashing, storing the
spec as JSON. Each document's node graph is therefore measured *before* it is turned into
Python objects, counting a node once per path that reaches it (what it would cost
expanded); a document over `MAX_NODES`, deeper than `MAX_DEPTH`, or holding an alias to
itself is refused. Reasonable anchors (a template reused a few times) are untouched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

MAX_FILE_BYTES = 1024 * 1024  # a manifest file; a thousand monitors fit in a fifth of it
MAX_NODES = 200_000  # scalars, lists and mappings of one document, aliases expanded
MAX_DEPTH = 64  # nesting of lists and mappings


class ManifestTooLarge(ValueError):
    """A bound was broken; the message says which, in words a manifest author can act on."""


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def expanded_size(root: Node, max_nodes: int = MAX_NODES, max_depth: int = MAX_DEPTH) -> int:
    """Nodes of the document with every alias expanded (each shared node memoised: linear time)."""
    sizes: dict[int, int] = {}
    depths: dict[int, int] = {}
    open_: set[int] = set()
    # Iterative post-order walk: deep documents must not exhaust Python's stack here.
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            kids = _children(node)
            sizes[key] = 1 + sum(sizes[id(k)] for k in kids)
            depths[key] = 1 + max((depths[id(k)] for k in kids), default=0)
            open_.discard(key)
            if sizes[key] > max_nodes:
                raise ManifestTooLarge(
                    f"a document expands to more than {max_nodes} YAML nodes (YAML aliases count each time "
                    "they are used)"
                )
            if depths[key] > max_depth:
                raise ManifestTooLarge(f"a document is nested deeper than {max_depth} levels")
            continue
        if key in sizes:
            continue
        if key in open_:
            raise ManifestTooLarge("a YAML alias refers to a node that contains it (a recursive document)")
        open_.add(key)
        stack.append((node, True))
        if len(open_) > max_depth:
            raise ManifestTooLarge(f"a document is nested deeper than {max_depth} levels")
        stack.extend((k, False) for k in _children(node) if id(k) not in sizes)
    return sizes[id(root)]


def load_documents(text: str) -> list[Any]:
    """Every document of a YAML stream, each checked by `expanded_size` before it is constructed."""
    loader = yaml.SafeLoader(text)
    docs: list[Any] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            expanded_size(node)
            docs.append(loader.construct_document(node))
    except RecursionError:
        raise ManifestTooLarge(f"a document is nested deeper than {MAX_DEPTH} levels") from None
    finally:
        loader.dispose()
    return docs


def read_documents(path: Path, max_bytes: int = MAX_FILE_BYTES) -> list[Any]:
    """The documents of one manifest file: at most `max_bytes`, UTF-8 (UnicodeDecodeError otherwise)."""
    with path.open("rb") as f:
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ManifestTooLarge(f"the file is larger than {max_bytes // 1024} KiB")
    return load_documents(data.decode("utf-8"))
