"""An exclusive lock on a run directory, so that two processes never write one run.

The lock is a file, `run.lock`, created with O_CREAT | O_EXCL (which only one
process can do, also on a shared file system) and holding the holder's host
name and process id. It is removed when the holder is done. A process killed
while holding it leaves it behind: a later process on the same host sees that
the holder is gone and takes the lock over; a lock held from another host can
only be judged by a person, so the error says which file to remove.

Taking over a stale lock is itself guarded by a second file created with
O_EXCL, `run.lock.takeover`, so that of two processes that find the same stale
lock only one replaces it.
"""

import contextlib
import json
import os
import socket
from pathlib import Path

NAME = "run.lock"


class LockedError(OSError):
    """The run directory is locked by another live process."""


def holder_text():
    return json.dumps({"host": socket.gethostname(), "pid": os.getpid()}) + "\n"


def create(path, text):
    """Creates `path` holding `text` if it does not exist; True if this call created it."""
    try:
        handle = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    try:
        os.write(handle, text.encode())
        os.fsync(handle)
    finally:
        os.close(handle)
    return True


def read_holder(path):
    """(host, pid) written in a lock file; (None, None) when it is unreadable or half written."""
    try:
        holder = json.loads(Path(path).read_text())
        return str(holder["host"]), int(holder["pid"])
    except FileNotFoundError:
        raise
    except (OSError, ValueError, KeyError, TypeError):
        return None, None


def alive(pid):
    """True while process `pid` of this host exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def acquire(run_dir):
    """Takes the lock of `run_dir` for this process; returns the lock file's path.

    Raises:
      LockedError: another live process holds it (the message names its host and
        pid, and the file to remove if that process is known to be gone).
    """
    path = Path(run_dir) / NAME
    text = holder_text()
    for _ in range(3):
        if create(path, text):
            return path
        try:
            host, pid = read_holder(path)
        except FileNotFoundError:  # released between our create and our read
            continue
        if host != socket.gethostname() or pid is None or alive(pid):
            holder = f"process {pid} on host {host}" if pid is not None else "a process that is starting"
            raise LockedError(f"{str(run_dir)!r} is in use by {holder} (lock file {str(path)!r}); wait for "
                              f"it to finish, or remove the lock file if that process is gone")
        take_over(path, (host, pid))
    raise LockedError(f"{str(run_dir)!r}: could not take the lock {str(path)!r}; other processes keep taking it")


def take_over(path, stale):
    """Removes the lock file `path` if it still names the dead holder `stale`."""
    guard = path.with_name(path.name + ".takeover")
    if not create(guard, holder_text()):
        raise LockedError(f"another process is taking over the stale lock {str(path)!r}; if none is, "
                          f"remove {str(guard)!r}")
    try:
        with contextlib.suppress(FileNotFoundError):
            if read_holder(path) == stale:
                os.remove(path)
    finally:
        os.remove(guard)


def release(path):
    """Removes the lock file if this process holds it."""
    with contextlib.suppress(FileNotFoundError):
        if read_holder(path) == (socket.gethostname(), os.getpid()):
            os.remove(path)


@contextlib.contextmanager
def locked(run_dir):
    """Holds the lock of `run_dir` (which must exist) while the block runs."""
    path = acquire(run_dir)
    try:
        yield path
    finally:
        release(path)
