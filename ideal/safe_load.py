"""One safe way to read the YAML and JSON that IDEAL is given: crosswalk and methodology
profiles, the plausibility checks, distribution lists, the shipped rules; JSON request bodies.

YAML: safe types only, anchors and aliases refused with their line (nested aliases make a few
hundred bytes expand tenfold per level, #34, #46), nesting depth and size bounded (50,000 `[`
made the composer recurse until the interpreter gave up, #46). JSON: the nesting depth of a
body measured as its bytes arrive (``JsonDepth``), before any parser recurses into it.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from ideal.errors import UnsafeInput

MAX_DEPTH = 40  # a profile nests five levels deep; a request body three
MAX_YAML_BYTES = 4 * 2**20  # the largest shipped profile is 30 KB


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases, and nesting deeper than MAX_DEPTH."""

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise yaml.constructor.ConstructorError(
                None, None, "anchors and aliases (& and *) are not allowed: write each value out",
                event.start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.constructor.ConstructorError(
                    None, None, f"nested more than {MAX_DEPTH} levels deep", event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def yaml_node(text: str, source: str = "YAML") -> tuple[object, yaml.Node | None]:
    """(the data, its composed node: where each key is) of YAML ``text``; UnsafeInput naming
    the source, the line and what is wrong."""
    if len(text) > MAX_YAML_BYTES:
        raise UnsafeInput(f"{source}: {len(text) / 2**20:.1f} MB of YAML, more than the "
                          f"{MAX_YAML_BYTES // 2**20} MB any profile or list needs.")
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise UnsafeInput(f"{source}:{where} not valid YAML ({getattr(exc, 'problem', None) or exc}).") from None
    except RecursionError:  # a structure the depth check did not see (cannot happen)
        raise UnsafeInput(f"{source}: nested too deeply.") from None
    finally:
        loader.dispose()
    return data, node


def yaml_text(text: str, source: str = "YAML"):
    """The data of YAML ``text`` (see yaml_node)."""
    return yaml_node(text, source)[0]


def yaml_file(path: Path | str, source: str | None = None):
    """The data of a YAML file (see yaml_node)."""
    path = Path(path)
    return yaml_text(path.read_text(encoding="utf-8"), source or str(path.name))


_JSON_TOKEN = re.compile(rb'[\[\]{}"\\]')


class JsonDepth:
    """The nesting depth of a JSON text fed in pieces (a request body as it arrives): brackets
    and braces outside strings counted, escapes inside strings skipped."""

    def __init__(self) -> None:
        self.depth = self.deepest = 0
        self.in_string = self.escaped = False

    def feed(self, chunk: bytes) -> int:
        """The deepest nesting so far."""
        pos = 0
        if self.escaped and chunk:  # an escape that ended the previous piece
            pos, self.escaped = 1, False
        while True:
            m = _JSON_TOKEN.search(chunk, pos)
            if m is None:
                return self.deepest
            ch, pos = m.group(), m.end()
            if self.in_string:
                if ch == b"\\":
                    if pos >= len(chunk):
                        self.escaped = True
                    pos += 1
                elif ch == b'"':
                    self.in_string = False
            elif ch == b'"':
                self.in_string = True
            elif ch in (b"[", b"{"):
                self.depth += 1
                self.deepest = max(self.deepest, self.depth)
            elif ch in (b"]", b"}"):
                self.depth -= 1
