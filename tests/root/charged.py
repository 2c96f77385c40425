#!/usr/bin/env python3
# What the kernel charges to Committed_AS for what a set of processes holds, counted the way a kernel in mode 2
# would (SPEC 3.1), from the kernel's own files and never from commitd:
#   - areas flagged ac (VM_ACCOUNT) in /proc/PID/smaps, and private writable nr areas (MAP_NORESERVE, which
#     mode 2 ignores); a zombie leader's smaps is empty, so a live thread's is read instead;
#   - shmem objects, once each by (dev, inode), whether mapped (/proc/PID/map_files) or only held by an fd
#     (/proc/PID/fd): a shared anonymous object at its full size (shmem_acct_size() charged it whole, however
#     little of it is still mapped), a memfd or tmpfs file by its allocated pages (shmem_acct_blocks());
#   - SysV segments of the uid given with --sysv-uid, or made by the PIDs themselves with --sysv-own, from
#     /proc/sysvipc/shm (they outlive their creator).
# Usage: charged.py [--tree] [--sysv-uid UID | --sysv-own] [-v] PID...   (--tree: the processes' descendants too)
# Prints the bytes; -v also prints each part on stderr.
import os
import sys

PAGE = os.sysconf("SC_PAGE_SIZE")


def tmpfs_devs():
    devs = set()
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            fstype = fields[fields.index("-") + 1]
            if fstype == "tmpfs":
                major, minor = fields[2].split(":")
                devs.add(os.makedev(int(major), int(minor)))
    return devs


TMPFS = tmpfs_devs()


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def smaps_of(pid):
    data = read(f"/proc/{pid}/smaps")
    if data:
        return data
    try:
        tasks = sorted(os.listdir(f"/proc/{pid}/task"), key=int)
    except OSError:
        return ""
    for tid in tasks:
        data = read(f"/proc/{pid}/task/{tid}/smaps")
        if data:
            return data
    return ""


def descendants(pid):
    out = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        for child in read(f"/proc/{pid}/task/{tid}/children").split():
            out.append(int(child))
            out.extend(descendants(int(child)))
    return out


def shmem_charge(st, whole):
    return st.st_size if whole else st.st_blocks * 512


def main(argv):
    tree, verbose, sysv_uid, sysv_own, pids = False, False, None, False, []
    i = 0
    while i < len(argv):
        if argv[i] == "--tree":
            tree = True
        elif argv[i] == "-v":
            verbose = True
        elif argv[i] == "--sysv-own":
            sysv_own = True
        elif argv[i] == "--sysv-uid":
            i += 1
            sysv_uid = int(argv[i])
        else:
            pids.append(int(argv[i]))
        i += 1
    if tree:
        pids = pids + [d for p in pids for d in descendants(p)]
    accountable, objects = 0, {}  # objects: (dev, inode) -> bytes
    for pid in sorted(set(pids)):
        size, perms, name, rng = 0, "", "", ""
        for line in smaps_of(pid).splitlines():
            fields = line.split(None, 5)
            if fields and "-" in fields[0] and len(fields) >= 5 and ":" in fields[3]:
                rng, perms = fields[0], fields[1]
                name = fields[5] if len(fields) > 5 else ""
                size = 0
            elif line.startswith("Size:"):
                size = int(line.split()[1]) * 1024
            elif line.startswith("VmFlags:"):
                flags = line.split()[1:]
                if "ac" in flags or ("nr" in flags and perms[1] == "w" and perms[3] == "p" and "ht" not in flags):
                    accountable += size
                elif perms[3] == "s" and not name.startswith("/SYSV"):
                    try:
                        st = os.stat(f"/proc/{pid}/map_files/{rng}")
                    except OSError:
                        continue
                    anon = name.startswith("/dev/zero") or name.startswith("[anon_shmem")
                    if anon or name.startswith("/memfd:") or st.st_dev in TMPFS:
                        objects[(st.st_dev, st.st_ino)] = shmem_charge(st, anon and "nr" not in flags)
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            fds = []
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                st = os.stat(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("/memfd:") or (st.st_dev in TMPFS and os.path.isfile(f"/proc/{pid}/fd/{fd}")):
                objects[(st.st_dev, st.st_ino)] = shmem_charge(st, False)
    sysv = 0
    if sysv_uid is not None or sysv_own:
        lines = read("/proc/sysvipc/shm").splitlines()
        head = lines[0].split() if lines else []
        for line in lines[1:]:
            row = dict(zip(head, line.split()))
            if (sysv_own and int(row["cpid"]) in pids) or (sysv_uid is not None and int(row["uid"]) == sysv_uid):
                sysv += (int(row["size"]) + PAGE - 1) // PAGE * PAGE
    shmem = sum(objects.values())
    if verbose:
        print(
            f"pids={sorted(set(pids))} accountable={accountable} shmem={shmem} ({len(objects)} objects) sysv={sysv}",
            file=sys.stderr,
        )
    print(accountable + shmem + sysv)


main(sys.argv[1:])
