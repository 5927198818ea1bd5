"""Safe XML reading shared by the GPX, TCX and Apple Health readers.

Before any parser sees a file, its prolog (everything before the root element) is read:

1. a file whose prolog declares an entity (``<!ENTITY``) is refused: that is how
   entity-expansion ("billion laughs") and external-entity attacks work, and no GPX, TCX or
   Apple Health export needs one (Apple's export declares elements and attributes only);
2. the document type declaration (``<!DOCTYPE ...>``, with its internal subset) is then
   removed from what the parser reads (its lines are kept as blank lines, so line numbers
   in messages stay right). Nothing here uses a DTD, and iOS 16 wrote exports whose DTD is
   itself malformed (an ``ATTLIST`` that is never closed): with it removed, such an export
   still reads, and no entity can be declared at all;
3. characters XML 1.0 forbids (control characters such as the vertical tab some Apple
   exports contain) are dropped from UTF-8 input as it streams.

The lxml parsers are also told not to resolve entities, load DTDs or use the network.
"""

from __future__ import annotations

import re
from typing import Any

from twitchwise.journal.imports._common import FileProblem, Readable

#: Options for every lxml parser and iterparse over an imported file.
PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": True,  # safe: entities are refused and the DTD is removed before parsing
    "remove_comments": True,
    "remove_pis": True,
}

#: How much of a file may come before its root element (Apple's DTD is about 10 kB).
MAX_PROLOG_BYTES = 4 * 1024 * 1024
_ROOT = re.compile(r"<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")
_ENTITY = re.compile(r"<!ENTITY", re.IGNORECASE)
#: C0 control characters other than tab, newline and carriage return: not allowed in XML.
_FORBIDDEN = bytes(c for c in range(32) if c not in (9, 10, 13))


def read_prolog(stream: Readable) -> bytes:
    """Bytes from the start of ``stream`` up to (at least) its root element's name."""
    head = b""
    while len(head) < MAX_PROLOG_BYTES:
        chunk = stream.read(64 * 1024)
        if not chunk:
            break
        head += chunk
        if _scan(_decode(head))[0] is not None:
            break
    return head


def root_element(head: bytes) -> str:
    """The local name of the root element; :class:`FileProblem` for a hostile prolog."""
    return _checked(head)[0]


class SafeXMLReader:
    """The stream a parser reads: the prolog without its DOCTYPE, then the rest, with the
    characters XML forbids dropped (UTF-8 input only)."""

    def __init__(self, stream: Readable) -> None:
        head = read_prolog(stream)
        self.root, span = _checked(head)
        self.utf16 = _is_utf16(head)
        if span is not None and not self.utf16:
            start, end = span
            head = head[:start] + b"\n" * head.count(b"\n", start, end) + head[end:]
        self._pending = self._clean(head)
        self._stream = stream

    def _clean(self, data: bytes) -> bytes:
        return data if self.utf16 else data.translate(None, _FORBIDDEN)

    def read(self, size: int = -1, /) -> bytes:
        if size < 0:
            data, self._pending = self._pending, b""
            return data + self._clean(self._stream.read())
        if self._pending:
            data, self._pending = self._pending[:size], self._pending[size:]
            return data
        while chunk := self._stream.read(size):
            if data := self._clean(chunk):  # b"" would read as the end of the file
                return data
        return b""


def _checked(head: bytes) -> tuple[str, tuple[int, int] | None]:
    text = _decode(head)
    found, doctype = _scan(text)
    if found is None:
        if len(head) >= MAX_PROLOG_BYTES:
            raise FileProblem(
                "the XML prolog is too long (more than 4 MB before the first element)"
            )
        raise FileProblem("no XML element found (empty, truncated or not XML)")
    if _ENTITY.search(text, 0, found.start()):
        raise FileProblem(
            "the XML declares entities (<!ENTITY>), which can expand without limit or read "
            "other files; refusing it"
        )
    return found.group(2), doctype


def _is_utf16(head: bytes) -> bool:
    return head.startswith((b"\xff\xfe", b"\xfe\xff"))


def _decode(head: bytes) -> str:
    # latin-1 keeps one character per byte, so positions are byte offsets; the markup that
    # matters here is ASCII
    if _is_utf16(head):
        return head.decode("utf-16", errors="replace")
    return head.decode("latin-1")


def _scan(text: str) -> tuple[re.Match[str] | None, tuple[int, int] | None]:
    """The root start tag (the first ``<name`` outside declarations, comments and the DTD)
    and the span of the DOCTYPE declaration, if any."""
    i = 0
    n = len(text)
    doctype: tuple[int, int] | None = None
    while i < n:
        j = text.find("<", i)
        if j < 0 or j + 1 >= n:
            return None, doctype
        if text.startswith("<?", j):
            end = text.find("?>", j)
            if end < 0:
                return None, doctype
            i = end + 2
        elif text.startswith("<!--", j):
            end = text.find("-->", j)
            if end < 0:
                return None, doctype
            i = end + 3
        elif text.startswith("<!", j):
            end = _declaration_end(text, j)
            if end < 0:
                return None, doctype
            if doctype is None and text.startswith("<!DOCTYPE", j):
                doctype = (j, end)
            i = end
        else:
            return _ROOT.match(text, j), doctype
    return None, doctype


def _declaration_end(text: str, start: int) -> int:
    """End of the ``<!...>`` declaration at ``start`` (a DOCTYPE with its internal subset
    included); -1 when it does not end within ``text``.

    Quotes, comments and processing instructions are skipped as XML defines them, so that
    no ``>`` or ``]`` inside them can end the declaration early.
    """
    k = start + 2
    n = len(text)
    while k < n:
        ch = text[k]
        if ch in "\"'":
            end = text.find(ch, k + 1)
            if end < 0:
                return -1
            k = end + 1
        elif ch == "[":
            k = _subset_end(text, k + 1)
            if k < 0:
                return -1
        elif ch == ">":
            return k + 1
        else:
            k += 1
    return -1


def _subset_end(text: str, k: int) -> int:
    """Index just after the ``]`` that closes a DTD internal subset starting at ``k``.

    Stray text between declarations (iOS 16 left some) is skipped rather than refused: the
    DOCTYPE is removed before parsing anyway, and an ``<!ENTITY`` anywhere before the root
    is refused whatever this finds.
    """
    n = len(text)
    while k < n:
        if text[k] == "]":
            return k + 1
        if text.startswith("<!--", k):
            end = text.find("-->", k + 4)
            if end < 0:
                return -1
            k = end + 3
        elif text.startswith("<?", k):
            end = text.find("?>", k + 2)
            if end < 0:
                return -1
            k = end + 2
        elif text.startswith("<!", k):
            k = _declaration_end(text, k)
            if k < 0:
                return -1
        else:
            k += 1
    return -1
