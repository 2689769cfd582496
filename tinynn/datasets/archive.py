"""Extract a downloaded tar archive safely and atomically.

``extract_tar(archive, dest, check=...)``:

1. every member is checked before it is written: its name must be a relative path that
   stays inside ``dest`` (no absolute path, no ``..`` component), and it must be a plain
   file or a folder. Symbolic links, hard links, devices and FIFOs are refused: a link
   could point anywhere, and a later member written "through" it would land outside.
   Permissions and owners stored in the archive are not applied.
2. members are written into a hidden staging folder inside ``dest``
   (``.NAME.HOST.PID.XXXX.extracting``), never into their final place;
3. ``check(staging)`` (the caller's verification, e.g. the files' MD5s) runs on the
   complete extraction;
4. only then are the extracted entries moved into ``dest`` by renames: a folder that is
   not there yet appears whole in one ``rename``; into an existing folder each file is
   renamed over the old one, so every file is either the old or the new one, never a
   half-written mixture.

Any failure (a refused member, a corrupt or truncated archive, a full disk, a failed
check, Ctrl-C) removes the staging folder and leaves ``dest`` as it was. A staging folder
left by a killed process is removed by the next extraction into the same place.
"""
import os
import re
import secrets
import shutil
import socket
import tarfile
import zlib

from .download import DatasetError, _is_disk_error

__all__ = ["ArchiveError", "extract_tar", "check_member"]


class ArchiveError(DatasetError):
    """An archive that is corrupt, truncated, or holds a member that would be unsafe to
    extract. The message names the archive and the member."""


def check_member(member, archive="archive"):
    """The path components of ``member`` (a ``tarfile.TarInfo``) relative to the extraction
    folder; raise ``ArchiveError`` if extracting it would be unsafe."""
    name = member.name
    if name.startswith(("/", "\\")) or os.path.isabs(name) or re.match(r"^[A-Za-z]:", name):
        raise ArchiveError(f"{archive}: refusing member {name!r}: an absolute path would be "
                           f"written outside the extraction folder")
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ArchiveError(f"{archive}: refusing member {name!r}: its '..' would escape the "
                           f"extraction folder")
    if member.issym() or member.islnk():
        kind = "symbolic link" if member.issym() else "hard link"
        raise ArchiveError(f"{archive}: refusing member {name!r}: it is a {kind} to "
                           f"{member.linkname!r}; links are not extracted (a link could "
                           f"point outside the extraction folder)")
    if not (member.isfile() or member.isdir()):
        raise ArchiveError(f"{archive}: refusing member {name!r}: only plain files and "
                           f"folders are extracted (it is a device, FIFO or other special file)")
    return parts


def _staging_pattern(name):
    return re.compile(rf"\.{re.escape(name)}\.(?P<host>.+)\.(?P<pid>\d+)\.[0-9a-f]{{12}}\.extracting")


def _pid_running(pid):
    try:
        os.kill(pid, 0)  # signal 0 only asks whether the process exists
    except ProcessLookupError:
        return False
    except OSError:      # it exists, but belongs to someone else
        return True
    return True


def _remove_stale_staging(dest, name):
    """Remove staging folders for ``name`` left in ``dest`` by killed processes on this
    machine (a live process's folder is its own business)."""
    if os.name != "posix":
        return
    pattern, host = _staging_pattern(name), socket.gethostname()
    try:
        entries = os.listdir(dest)
    except OSError:
        return
    for entry in entries:
        match = pattern.fullmatch(entry)
        if match and match["host"] == host and not _pid_running(int(match["pid"])):
            shutil.rmtree(os.path.join(dest, entry), ignore_errors=True)


def _extract_into(archive, staging):
    """Write every member of ``archive`` under ``staging`` after checking it."""
    real_staging = os.path.realpath(staging)
    with tarfile.open(archive, "r|*") as tar:  # a stream: one pass, members in order
        for member in tar:
            parts = check_member(member, archive)
            if not parts:  # the archive's own root folder ("./")
                continue
            target = os.path.join(staging, *parts)
            # staging is fresh and links are never extracted, so this always holds; it
            # stays as a second line of defence
            if os.path.commonpath([real_staging, os.path.realpath(target)]) != real_staging:
                raise ArchiveError(f"{archive}: refusing member {member.name!r}: it resolves "
                                   f"outside the extraction folder")
            if member.isdir():
                os.makedirs(target, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            source = tar.extractfile(member)
            with source, open(target, "wb") as out:
                shutil.copyfileobj(source, out, 1 << 20)
                if out.tell() != member.size:
                    raise ArchiveError(f"{archive}: member {member.name!r} is truncated "
                                       f"({out.tell()} of {member.size} bytes)")


def _publish(staging, dest):
    """Move the entries of ``staging`` into ``dest`` by renames (see the module's doc)."""
    for entry in sorted(os.listdir(staging)):
        source, target = os.path.join(staging, entry), os.path.join(dest, entry)
        if os.path.isdir(source):
            if not os.path.lexists(target):
                os.rename(source, target)        # the whole folder appears at once
            elif os.path.isdir(target):
                _publish(source, target)         # merge, file by file
            else:
                raise ArchiveError(f"cannot extract the folder {entry!r} into {dest}: "
                                   f"{target} is a file in the way")
        elif os.path.isdir(target) and not os.path.islink(target):
            raise ArchiveError(f"cannot extract the file {entry!r} into {dest}: {target} "
                               f"is a folder in the way")
        else:
            os.replace(source, target)


# what a broken archive raises while it is read: tarfile's own errors, gzip's "ended
# before the end-of-stream marker" (EOFError), zlib/bz2/lzma data errors
_CORRUPT = (tarfile.TarError, EOFError, zlib.error, ValueError)
try:
    import lzma
    _CORRUPT += (lzma.LZMAError,)
except ImportError:  # Python built without lzma: tarfile cannot open .xz either
    pass


def _unreadable(archive, exc):
    """The ArchiveError for an archive that cannot be read as a tar archive."""
    return ArchiveError(f"{archive} is corrupt or truncated: cannot read it as a tar archive "
                        f"({type(exc).__name__}: {exc})")


def extract_tar(archive, dest, check=None, log=print):
    """Extract the tar archive ``archive`` (plain, gzip, bz2 or xz) into ``dest``.

    ``check(staging_folder)`` may raise to reject the extracted content before any of it
    is moved into ``dest``. Raises ``ArchiveError`` for an unsafe member or a corrupt or
    truncated archive, and ``DatasetError`` when ``dest`` cannot be written; in every
    case ``dest`` is left as it was (see the module's docstring).
    """
    archive, dest = os.fspath(archive), os.fspath(dest)
    name = os.path.basename(archive)
    staging = os.path.join(dest, f".{name}.{socket.gethostname()}.{os.getpid()}."
                                 f"{secrets.token_hex(6)}.extracting")
    try:
        os.makedirs(dest, exist_ok=True)
        _remove_stale_staging(dest, name)
        os.mkdir(staging)
    except OSError as exc:
        raise DatasetError(f"cannot write to {dest}: {exc.strerror or exc}") from None
    log(f"Extracting {archive} to {dest}")
    try:
        try:
            _extract_into(archive, staging)
        except ArchiveError:
            raise
        except _CORRUPT as exc:
            raise _unreadable(archive, exc) from None
        except OSError as exc:
            if _is_disk_error(exc):
                raise DatasetError(f"cannot write into {dest}: {exc.strerror}") from None
            if exc.filename and os.fspath(exc.filename).startswith(staging):
                # e.g. a file member and a folder member with the same name
                raise ArchiveError(f"{archive}: cannot extract it: {exc.strerror} "
                                   f"({os.path.relpath(exc.filename, staging)})") from None
            # gzip reports a corrupt stream as a plain OSError ("Not a gzipped file")
            raise _unreadable(archive, exc) from None
        if check is not None:
            check(staging)
        try:
            _publish(staging, dest)
        except ArchiveError:
            raise
        except OSError as exc:
            raise DatasetError(f"cannot move the extracted files into {dest}: "
                               f"{exc.strerror or exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
