"""The run directory's lock file: exclusive, naming its holder, stale locks taken over."""

import json
import os
import socket
import subprocess
import sys

import pytest

from tfpvae import locks


def dead_pid():
    """The id of a process of this host that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def write_lock(run_dir, host, pid):
    (run_dir / locks.NAME).write_text(json.dumps({"host": host, "pid": pid}) + "\n")


def test_the_lock_names_its_holder_and_is_removed_after(tmp_path):
    with locks.locked(tmp_path) as path:
        holder = json.loads(path.read_text())
        assert holder == {"host": socket.gethostname(), "pid": os.getpid()}
        with pytest.raises(locks.LockedError, match=f"in use by process {os.getpid()} on host"):
            locks.acquire(tmp_path)
    assert not path.exists()


def test_a_live_holder_keeps_the_lock(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        write_lock(tmp_path, socket.gethostname(), sleeper.pid)
        with pytest.raises(locks.LockedError, match=f"process {sleeper.pid} on host"):
            locks.acquire(tmp_path)
        assert json.loads((tmp_path / locks.NAME).read_text())["pid"] == sleeper.pid
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_stale_lock_of_this_host_is_taken_over(tmp_path):
    write_lock(tmp_path, socket.gethostname(), dead_pid())
    with locks.locked(tmp_path) as path:
        assert json.loads(path.read_text())["pid"] == os.getpid()
    assert not list(tmp_path.iterdir())


def test_a_lock_from_another_host_is_not_judged(tmp_path):
    write_lock(tmp_path, "another-host.example", dead_pid())
    with pytest.raises(locks.LockedError, match="another-host.example.*remove the lock file"):
        locks.acquire(tmp_path)


def test_an_unreadable_lock_is_held_by_a_process_starting(tmp_path):
    (tmp_path / locks.NAME).write_text("")  # created, not yet written
    with pytest.raises(locks.LockedError, match="a process that is starting"):
        locks.acquire(tmp_path)


def test_a_takeover_in_progress_is_not_joined(tmp_path):
    write_lock(tmp_path, socket.gethostname(), dead_pid())
    (tmp_path / (locks.NAME + ".takeover")).write_text("{}")
    with pytest.raises(locks.LockedError, match="taking over the stale lock"):
        locks.acquire(tmp_path)


def test_release_leaves_another_holders_lock(tmp_path):
    path = locks.acquire(tmp_path)
    write_lock(tmp_path, "another-host.example", 1)
    locks.release(path)
    assert path.exists()
