"""Files -> :class:`~twitchwise.journal.records.Batch`: detect the format, read, validate.

The format is recognised from the file's content, not its name:

================  =====================================================================
Format            Recognised by
================  =====================================================================
``fit``           ``.FIT`` at bytes 8-11 of the header
``gpx``           an XML root element ``<gpx>``
``tcx``           an XML root element ``<TrainingCenterDatabase>``
``apple_health``  an XML root element ``<HealthData>`` (``export.xml``), or a zip holding
                  ``export.xml`` (``export.zip``)
``csv``           a first line starting with the column ``date``
``json``          a JSON object with ``episodes``, ``days`` or ``workouts`` (twitchwise's
                  own export)
================  =====================================================================

Readers never touch the database: a file is read and checked completely before anything
is written, so a bad file changes nothing. Every problem becomes one
:class:`~twitchwise.errors.InputError` line that names the file.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from twitchwise.errors import InputError
from twitchwise.journal.imports._common import CountingReader, FileProblem, Progress
from twitchwise.journal.records import Batch, FileInfo, ImportSummary

if TYPE_CHECKING:
    import zipfile

__all__ = [
    "FORMATS",
    "FileProblem",
    "Progress",
    "describe_import",
    "detect_format",
    "fingerprint",
    "read_batch",
    "read_file",
]

#: Every format and how it is named in messages.
FORMATS = {
    "fit": "FIT",
    "gpx": "GPX",
    "tcx": "TCX",
    "apple_health": "Apple Health",
    "csv": "daily CSV",
    "json": "twitchwise JSON",
}
_XML_ROOTS = {"gpx": "gpx", "TrainingCenterDatabase": "tcx", "HealthData": "apple_health"}
_EXPECTED = (
    "expected FIT, GPX, TCX, Apple Health export.xml or export.zip, a daily CSV "
    "(date,twitches,caffeine_mg,...) or a twitchwise JSON export"
)
_WHITESPACE = b" \t\r\n"
_T = TypeVar("_T")
_LXML_WHERE = re.compile(r" \(<string>, line \d+\)")


def describe_import(s: ImportSummary, formats: dict[str, str] = FORMATS) -> str:
    """What one file added, in one line: "ride.fit (FIT): added 1 workout."."""
    label = formats.get(s.format, s.format)
    if s.already_imported is not None:
        when = s.already_imported.astimezone().strftime("%Y-%m-%d %H:%M")
        return f"{s.name} ({label}): already imported on {when}; nothing added."
    parts = []
    if s.workouts_added or s.workouts_known:
        text = _count(s.workouts_added, "workout")
        if s.workouts_known:
            text += f" ({s.workouts_known} already in the journal)"
        parts.append(text)
    if s.days_added or s.days_updated:
        parts.append(f"daily factors for {_count(s.days_added + s.days_updated, 'day')}")
    if s.episodes_added:
        parts.append(_count(s.episodes_added, "twitch episode"))
    if s.experiments_added:
        parts.append(_count(s.experiments_added, "self-experiment"))
    if s.check_ins_added:
        parts.append(_count(s.check_ins_added, "experiment check-in"))
    added = "added " + ", ".join(parts) if parts else "nothing new to add"
    line = f"{s.name} ({label}): {added}."
    if s.values_kept:
        line += f" Kept {_count(s.values_kept, 'value')} you logged by hand."
    if s.notes:
        line += " Note: " + "; ".join(s.notes) + "."
    return line


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def fingerprint(path: Path) -> tuple[str, int]:
    """SHA-256 of the file's bytes, and its size."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def detect_format(path: Path) -> str:
    """The format of ``path`` from its content; :class:`InputError` if it is none of them."""
    return _guarded(path, lambda: _detect(path))


def read_file(path: Path, progress: Progress | None = None) -> tuple[FileInfo, Batch]:
    """Detect, fingerprint, read and check a whole file. Nothing is written anywhere."""
    fmt = detect_format(path)
    digest, size = _guarded(path, lambda: fingerprint(path))
    batch = read_batch(path, fmt, progress)
    return FileInfo(path.name, digest, size, batch.format), batch


def read_batch(path: Path, fmt: str, progress: Progress | None = None) -> Batch:
    """Read and check a whole file of format ``fmt`` (from :func:`detect_format`)."""
    return _guarded(path, lambda: _read(path, fmt, progress))


def _read(path: Path, fmt: str, progress: Progress | None) -> Batch:
    size = path.stat().st_size
    if fmt == "apple_health_zip":
        return _read_zip(path, progress)
    if fmt == "apple_health":
        from twitchwise.journal.imports.apple_health import read_apple_health

        with path.open("rb") as raw:
            stream = CountingReader(raw, progress, size)
            batch = read_apple_health(stream, path.name)
            stream.finish()
            return batch
    if fmt == "fit":
        from twitchwise.journal.imports.fit import read_fit

        return read_fit(path, progress)
    if fmt == "gpx":
        from twitchwise.journal.imports.gpx import read_gpx

        return read_gpx(path, progress)
    if fmt == "tcx":
        from twitchwise.journal.imports.tcx import read_tcx

        return read_tcx(path, progress)
    if fmt == "csv":
        from twitchwise.journal.imports.daily_csv import read_daily_csv

        with path.open("rb") as raw:
            batch = read_daily_csv(raw)
    elif fmt == "json":
        from twitchwise.journal.imports.journal_json import read_journal_json

        with path.open("rb") as raw:
            batch = read_journal_json(raw)
    else:
        raise ValueError(f"unknown format {fmt!r}")
    if progress is not None:
        progress(size, size)
    return batch


def _guarded(path: Path, action: Callable[[], _T]) -> _T:
    try:
        return action()
    except FileProblem as exc:
        problem = _LXML_WHERE.sub("", " ".join(str(exc).split()))
        raise InputError(f"cannot import {path}: {problem}; nothing was imported") from exc
    except IsADirectoryError:
        raise InputError(f"cannot import {path}: it is a folder; give the file") from None
    except FileNotFoundError:
        raise InputError(f"cannot import {path}: no such file") from None
    except PermissionError:
        raise InputError(f"cannot import {path}: permission denied") from None
    except OSError as exc:
        raise InputError(f"cannot import {path}: {exc.strerror or exc}") from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as exc:
        # a reader tripped over content it did not expect: the file is malformed
        detail = f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
        raise InputError(
            f"cannot import {path}: malformed content ({detail}); nothing was imported"
        ) from exc


# ---------------------------------------------------------------------- detection


def _detect(path: Path) -> str:
    if not path.exists():
        raise FileNotFoundError(path)
    if path.is_dir():
        raise IsADirectoryError(path)
    with path.open("rb") as stream:
        head = stream.read(64 * 1024)
        if not head:
            raise FileProblem("the file is empty")
        if len(head) >= 12 and head[8:12] == b".FIT":
            return "fit"
        if head.startswith(b"PK\x03\x04"):
            return "apple_health_zip"
        if head.startswith((b"PK\x05\x06", b"PK\x07\x08")):
            raise FileProblem("an empty or split zip archive; " + _EXPECTED)
        if head.startswith(b"\x1f\x8b"):
            raise FileProblem("a gzip-compressed file; unpack it first")
        text = head.lstrip(b"\xef\xbb\xbf").lstrip(_WHITESPACE)
        if text.startswith(b"<") or head.startswith((b"\xff\xfe", b"\xfe\xff")):
            from twitchwise.journal.imports._xml import read_prolog, root_element

            stream.seek(0)
            root = root_element(read_prolog(stream))
            fmt = _XML_ROOTS.get(root)
            if fmt is None:
                raise FileProblem(f"an XML file with root element <{root}>; {_EXPECTED}")
            return fmt
        if text.startswith(b"{"):
            return "json"
        first_line = text.split(b"\n", 1)[0].strip().lower()
        if first_line == b"date" or first_line.startswith((b"date,", b'"date",')):
            return "csv"
    if b"\x00" in head:
        raise FileProblem(f"an unrecognised binary file; {_EXPECTED}")
    raise FileProblem(f"not a recognised format; {_EXPECTED}")


def _read_zip(path: Path, progress: Progress | None) -> Batch:
    import zipfile
    import zlib

    from twitchwise.journal.imports.apple_health import read_apple_health

    try:
        with zipfile.ZipFile(path) as archive:
            member = _export_member(archive)
            with archive.open(member) as raw:
                return read_apple_health(CountingReader(raw, progress, member.file_size), path.name)
    except zipfile.BadZipFile as exc:
        raise FileProblem(f"the zip is truncated or damaged ({exc})") from exc
    except (zlib.error, EOFError) as exc:
        raise FileProblem(f"the zip's content is truncated or damaged ({exc})") from exc
    except (RuntimeError, NotImplementedError) as exc:  # encrypted, unknown compression
        raise FileProblem(f"the zip cannot be read ({exc})") from exc


def _export_member(archive: zipfile.ZipFile) -> zipfile.ZipInfo:
    """``export.xml``, or (the name is translated on some iPhones) the XML file whose root
    element is ``<HealthData>``; never ``export_cda.xml``, routes or macOS metadata."""
    from twitchwise.journal.imports._xml import read_prolog, root_element

    xml = [
        info
        for info in archive.infolist()
        if not info.is_dir()
        and info.filename.lower().endswith(".xml")
        and not info.filename.startswith("__MACOSX/")
        and not info.filename.lower().endswith("_cda.xml")
    ]
    xml.sort(key=lambda info: (os.path.basename(info.filename) != "export.xml", info.filename))
    for info in xml[:5]:
        with archive.open(info) as raw:
            try:
                if root_element(read_prolog(raw)) == "HealthData":
                    return info
            except FileProblem:
                continue
    raise FileProblem("a zip without an Apple Health export.xml; " + _EXPECTED)
