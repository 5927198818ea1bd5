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
   exports contain) are dropped from UTF-8 input as it streams;
4. a start tag with more attributes than :data:`LIMITS` allows is refused before the parser
   builds it (libxml2 would take hundreds of megabytes for a few million);
5. so is a text, tag, comment, CDATA section or processing instruction longer than
   :data:`LIMITS` allows (``node_bytes``): libxml2 reads such a piece whole before it refuses
   it, so a 1 GB attribute value zipped into 1 MB took 2 GB.

The lxml parsers are also told not to resolve entities, load DTDs or use the network, and
keep libxml2's own limits (``huge_tree`` off): no text or attribute value over 10 MB, no
nesting deeper than 256.

Then :func:`stream_elements` gives a reader the elements it asks for, one at a time, and
drops each once it has been read; everything else is dropped as soon as it ends. What is
held at any moment is therefore the open elements and the one being read, and that is
bounded by :data:`LIMITS`, counted as the file streams: one element with millions of
children is refused after ten thousand, not read into gigabytes of memory.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from twitchwise.journal.imports._common import FileProblem, Readable

#: Options for every lxml parser and iterparse over an imported file.
PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": False,  # libxml2's limits: 10 MB per text or tag, nesting up to 256
    "remove_comments": True,
    "remove_pis": True,
}


@dataclass(frozen=True, slots=True)
class XMLLimits:
    """How much one XML file may make a reader hold at once (docs/journal.md lists them).

    Real files stay far below: an Apple Health ``Workout`` has tens of children, a GPX or
    TCX track point a handful, and the readers drop each record once read.
    """

    #: Child elements of any one element, at any moment.
    children: int = 10_000
    #: Elements held at once: the open elements and the one being read, with its content.
    elements: int = 100_000
    #: Characters of text and attribute values held inside the element being read.
    text_chars: int = 16 * 1024 * 1024
    #: Attributes of one element (counted as ``=`` signs between two ``<``).
    attributes: int = 10_000
    #: Bytes of one piece of the file: a text or a tag with its attribute values (the bytes
    #: between two ``<``), a comment, a CDATA section or a processing instruction. libxml2
    #: refuses texts and values over 10 MB itself, but only once it has read them whole (it
    #: waits for the end of a tag, comment or section before it parses it).
    node_bytes: int = 16_000_000


#: The limits every XML reader runs with.
LIMITS = XMLLimits()

#: How much of a file may come before its root element (Apple's DTD is about 10 kB).
MAX_PROLOG_BYTES = 4 * 1024 * 1024
_ROOT = re.compile(r"<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")
#: Where a comment, CDATA section or processing instruction starts, and what ends it.
_SECTION = re.compile(rb"<(?:!--|!\[CDATA\[|\?)")
_SECTION_END = {b"<!--": b"-->", b"<![CDATA[": b"]]>", b"<?": b"?>"}
#: The longest start of a section, less one: what a chunk may end with of one.
_CARRY = 8
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
    characters XML forbids dropped (UTF-8 input only) and no start tag with more attributes
    than :data:`LIMITS` allows."""

    def __init__(self, stream: Readable) -> None:
        head = read_prolog(stream)
        self.root, span = _checked(head)
        self.utf16 = _is_utf16(head)
        if span is not None and not self.utf16:
            start, end = span
            head = head[:start] + b"\n" * head.count(b"\n", start, end) + head[end:]
        self._equals = 0  # "=" signs since the last "<"
        self._tag_at = 1  # the byte (from 1) of the last "<" given to the parser
        self._offset = 0  # bytes given to the parser so far
        self._section_end: bytes | None = None  # what ends the section the file is in
        self._section_at = 0  # the byte (from 0) where that section started
        self._carry = b""  # the end of the last chunk, which may start a section
        self._pending = self._clean(head)
        self._stream = stream

    def _clean(self, data: bytes) -> bytes:
        if not self.utf16:
            data = data.translate(None, _FORBIDDEN)
            self._check_sections(data)
        self._check_runs(data)
        self._count_attributes(data)
        return data

    def _check_runs(self, data: bytes) -> None:
        """Refuse a text or a tag (the bytes between two ``<``) over ``node_bytes``."""
        limit = LIMITS.node_bytes
        since = max(0, self._offset - self._tag_at)  # bytes after the last "<" so far
        if since + len(data) <= limit:
            return  # the usual case: nothing this long can be in it
        start = 0
        while (found := data.find(b"<", start)) >= 0:
            if since + found - start > limit:
                break
            since, start = 0, found + 1
        else:
            found = len(data)
            if since + found - start <= limit:
                return
        raise FileProblem(_too_long(self._offset + start - since, limit))

    def _check_sections(self, data: bytes) -> None:
        """Refuse a comment, CDATA section or processing instruction over ``node_bytes``,
        found by where it starts and ends (each may hold any ``<`` and ``>``)."""
        limit = LIMITS.node_bytes
        buf = self._carry + data
        base = self._offset - len(self._carry)  # the byte (from 0) where buf starts
        position = 0
        while True:
            end = self._section_end
            if end is None:
                found = _SECTION.search(buf, position)
                if found is None:
                    keep = max(position, len(buf) - _CARRY)
                    break
                self._section_end = _SECTION_END[found.group()]
                self._section_at = base + found.start()
                position = found.end()
                continue
            closing = buf.find(end, position)
            if closing < 0:
                keep = max(position, len(buf) - len(end) + 1)
                if base + len(buf) - self._section_at > limit:
                    raise FileProblem(_too_long(self._section_at + 1, limit))
                break
            position = closing + len(end)
            if base + position - self._section_at > limit:
                raise FileProblem(_too_long(self._section_at + 1, limit))
            self._section_end = None
        self._carry = buf[keep:]

    def _count_attributes(self, data: bytes) -> None:
        """Refuse a start tag with too many attributes before libxml2 builds it.

        Every attribute has an ``=`` and no tag holds a ``<``, so the ``=`` signs between two
        ``<`` bound the attributes of one tag (a long text full of ``=`` would count too;
        no GPX, TCX or Apple Health text is). Counting bytes is cheap: a chunk is split
        only when it holds more ``=`` than the limit.
        """
        limit = LIMITS.attributes
        count = data.count(b"=")
        if self._equals + count > limit:
            where = self._tag_at  # where the tag holding the first part began
            position = self._offset
            for i, part in enumerate(data.split(b"<")):
                if i:
                    where = position
                if part.count(b"=") + (self._equals if i == 0 else 0) > limit:
                    raise FileProblem(
                        f"the XML element near byte {where:,} has more than "
                        f"{limit:,} attributes; no GPX, TCX or Apple Health file needs that "
                        "many (a damaged or hostile file?)"
                    )
                position += len(part) + 1
        last = data.rfind(b"<")
        if last < 0:
            self._equals += count
        else:
            self._equals = data.count(b"=", last)
            self._tag_at = self._offset + last + 1  # counting from 1, as editors do
        self._offset += len(data)

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


def stream_elements(source: Readable, names: Collection[str]) -> Iterator[Any]:
    """Each element whose local name is in ``names``, complete, as its end tag is read.

    An element given out is dropped (with everything in it) when the loop asks for the next
    one, and so is any element outside such an element as soon as it ends; inside one, its
    content is kept until it ends so that the reader can look at it. Nested elements of
    ``names`` are given out (and dropped) before the one holding them.

    :data:`LIMITS` are counted as the file streams: one element too many, one character of
    text too many, and :class:`FileProblem` names the element and its line. XML syntax
    errors become :class:`FileProblem` too.
    """
    from lxml import etree

    limits = LIMITS
    max_children, max_elements, max_chars = limits.children, limits.elements, limits.text_chars
    wanted = frozenset(names)
    local: dict[str, str] = {}
    # per open element: its children held, and (the element, the elements and characters
    # held before it started, whether it is a wanted element, whether it is kept whole)
    children = [0]
    frames: list[tuple[Any, int, int, bool, bool]] = [(None, 0, 0, False, False)]
    held = chars = 0
    ended: Any = None  # the element that ended last: its tail is complete at the next event
    ended_parent: Any = None  # its parent, when the element is to be dropped
    context = etree.iterparse(source, events=("start", "end"), **PARSER_OPTIONS)
    try:
        for event, elem in context:
            if ended is not None:
                if ended_parent is not None:
                    ended_parent.remove(ended)  # with its tail
                elif tail := ended.tail:
                    chars += len(tail)
                ended = ended_parent = None
            if event == "start":
                count = children[-1] + 1
                if count > max_children:
                    raise FileProblem(_too_much(frames[-1][0], f"{max_children:,} children"))
                children[-1] = count
                children.append(0)
                tag = elem.tag
                name = local.get(tag)
                if name is None:
                    name = local[tag] = tag.rpartition("}")[2]
                is_wanted = name in wanted
                inside = frames[-1][4]
                frames.append((elem, held, chars, is_wanted, inside or is_wanted))
                held += 1
                if held > max_elements:
                    raise FileProblem(_too_much(_holder(frames), f"{max_elements:,} elements"))
                if inside and (attributes := elem.attrib):
                    chars += sum(map(len, attributes.values()))
            else:
                children.pop()
                frame = frames.pop()
                if frame[3]:
                    yield elem
                parent = frames[-1]
                if frame[3] or not parent[4]:  # read, or needed by no one: drop it
                    held, chars = frame[1], frame[2]
                    children[-1] -= 1
                    ended, ended_parent = elem, parent[0]
                    continue
                if text := elem.text:
                    chars += len(text)
                ended = elem
            if chars > max_chars:
                raise FileProblem(_too_much(_holder(frames), _characters(max_chars)))
    except etree.XMLSyntaxError as exc:
        raise FileProblem(xml_error(exc)) from exc


def xml_error(exc: Exception) -> str:
    """An lxml syntax error in words: libxml2's limits are named as such."""
    message = str(exc).splitlines()[0] if str(exc) else "syntax error"
    if "XML_PARSE_HUGE" in message or "Excessive depth" in message:
        detail = re.sub(r",? *(try|use) XML_PARSE_HUGE( option)?", "", message)
        return (
            f"the XML is over a parser limit ({detail}): no text or attribute value may be "
            "over 10 MB, and elements may nest at most 256 deep"
        )
    return f"malformed or truncated XML ({message})"


def _too_long(where: int, limit: int) -> str:
    return (
        f"the XML near byte {where:,} has a text, tag, comment or section of more than "
        f"{limit:,} bytes; no GPX, TCX or Apple Health file needs one that long (a damaged or "
        "hostile file?)"
    )


def _holder(frames: list[tuple[Any, int, int, bool, bool]]) -> Any:
    """The innermost open element a reader asked for (else the innermost open one)."""
    return next((f[0] for f in reversed(frames) if f[3]), frames[-1][0])


def _characters(n: int) -> str:
    mib = 1024 * 1024
    return f"{n // mib} MB of text" if n % mib == 0 else f"{n:,} characters of text"


def _too_much(elem: Any, what: str) -> str:
    name = elem.tag.rpartition("}")[2] if elem is not None else "?"
    line = getattr(elem, "sourceline", None)
    where = f" on line {line}" if line else ""
    return (
        f"the XML element <{name}>{where} holds more than {what}; no GPX, TCX or Apple "
        "Health file needs that many (a damaged or hostile file?)"
    )


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
