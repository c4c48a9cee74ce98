"""Tests of the run lock (tf1_birnn.training.lock): one owner, always, with many processes
taking over a stale lock at the same instant."""
import os
import subprocess
import sys

import pytest

from tf1_birnn.training.lock import RunLock, RunLocked

from tiny import dead_pid, hold_lock

CONTENDER = """
import os, sys
from tf1_birnn.training.lock import RunLock, RunLocked
run_dir, rounds = sys.argv[1], int(sys.argv[2])
print("ready", flush=True)
sys.stdin.readline()  # all start together
got = 0
for _ in range(rounds):
    lock = RunLock(run_dir)
    try:
        lock.acquire()
    except RunLocked:
        result = "refused"
    else:
        got += 1
        try:  # a second owner at this moment would find the marker
            os.close(os.open(os.path.join(run_dir, "owner"), os.O_CREAT | os.O_EXCL))
            result = "got"
        except FileExistsError:
            result = "TWO OWNERS"
    if rounds == 1:  # hold until the test has heard from every process
        print(result, flush=True)
        sys.stdin.readline()
    elif result == "TWO OWNERS":
        print(result, flush=True)
    if result == "got":
        os.remove(os.path.join(run_dir, "owner"))
    lock.release()
print("done", got, flush=True)
"""


def contend(run_dir, n, rounds):
    """``n`` processes that each try ``rounds`` times, started at once; their output lines."""
    procs = [subprocess.Popen([sys.executable, "-c", CONTENDER, str(run_dir), str(rounds)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for _ in range(n)]
    for p in procs:
        assert p.stdout.readline() == "ready\n"
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    lines = []
    if rounds == 1:
        lines = [p.stdout.readline().strip() for p in procs]  # each holds or was refused
        for p in procs:
            p.stdin.write("release\n")
            p.stdin.flush()
    for p in procs:
        out, _ = p.communicate()
        lines += out.split("\n")
        assert p.returncode == 0
    return [line for line in lines if line]


def stale_lock(run_dir):
    (run_dir / "lock").write_text(f"{dead_pid()}\n")  # as a SIGKILL leaves it


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(10))
def test_eight_processes_taking_over_a_stale_lock_make_one_owner(tmp_path, trial):
    stale_lock(tmp_path)
    lines = contend(tmp_path, 8, rounds=1)
    results = lines[:8]
    assert sorted(results) == ["got"] + ["refused"] * 7, lines


@pytest.mark.slow
def test_acquire_and_release_in_a_loop_never_makes_two_owners(tmp_path):
    stale_lock(tmp_path)
    lines = contend(tmp_path, 6, rounds=200)
    assert not [line for line in lines if line == "TWO OWNERS"], lines
    assert sum(int(line.split()[1]) for line in lines if line.startswith("done")) >= 1
    assert not (tmp_path / "lock").exists()  # the last owner removed it


@pytest.mark.slow
def test_a_held_lock_names_its_owner_and_a_released_one_is_free(tmp_path):
    with hold_lock(tmp_path) as pid:
        assert (tmp_path / "lock").read_text() == f"{pid}\n"
        with pytest.raises(RunLocked, match=f"is in use by process {pid}"):
            RunLock(tmp_path).acquire()
    with RunLock(tmp_path) as lock:
        assert lock.held and (tmp_path / "lock").read_text() == f"{os.getpid()}\n"
    assert not (tmp_path / "lock").exists()


def test_a_lock_file_with_garbage_or_a_live_strangers_pid_but_no_owner_is_free(tmp_path):
    for text in ("garbage\n", f"{os.getppid()}\n", ""):  # e.g. our parent: alive, not an owner
        (tmp_path / "lock").write_text(text)
        with RunLock(tmp_path):
            pass


def test_a_lock_that_is_a_symbolic_link_is_never_followed(tmp_path):
    target = tmp_path / "precious"
    target.write_text("keep me\n")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "lock").symlink_to(target)
    with pytest.raises(OSError):
        RunLock(run_dir).acquire()
    assert target.read_text() == "keep me\n"
