/* SPDX-License-Identifier: MIT */
/* The 32-bit doors of a 64-bit process, for the bypass test: each operation is one i386 system call made with
 * `int $0x80` (or one x32 call), and prints "OK op" or "ENOMEM op" (or another errno name) like the workload.
 *   mmap2:SIZE     i386 mmap2 (192), private anonymous writable: accountable
 *   mmap2-shared:SIZE   i386 mmap2, shared anonymous: shmem, charged at full size
 *   oldmmap:SIZE   i386 old mmap (90), arguments in memory below 4 GiB: the filter answers ENOSYS
 *   fork           i386 fork (2)
 *   clone          i386 clone (120) with SIGCHLD only: a fork
 *   shmget:SIZE    i386 ipc(SHMGET) (117, call 23), private segment, removed at once
 *   shmget-v1:SIZE the same with a version in the call's high 16 bits, which ksys_ipc() ignores
 *   shmget395:SIZE i386 shmget (395), the direct call (Linux 5.1+), private segment; kept (the test measures
 *                  it, then removes it)
 *   clone3         i386 clone3 (435) with no arguments: EINVAL from the kernel, ENOSYS from the filter
 *   x32mmap:SIZE   x32 mmap (9 | 0x40000000); ENOSYS where the kernel has x32 off
 *   x32fork        x32 fork (57 | 0x40000000); ENOSYS where the kernel has x32 off
 *   brk:SIZE       i386 brk (45): grow the break by SIZE (int80 is linked without PIE, so its heap lies
 *                  below 4 GiB where a 32-bit break can name it); ENOMEM when the break did not move
 *   pkey-mprotect:SIZE  (64-bit) map SIZE read-only, then pkey_mprotect(2) it writable with pkey -1: the kernel
 *                  charges it exactly like mprotect(2)
 *   map:SIZE  dontfork  dofork  fork64   (64-bit) a private writable mapping, MADV_DONTFORK and MADV_DOFORK
 *                  on it, fork(2): a mapping made copyable again is copied by the next fork, and charged
 * SIZE takes K, M, G. A 64-bit process may make i386 calls: the kernel then runs the compat table and seccomp
 * sees AUDIT_ARCH_I386. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report.h"

#define I386_FORK   2
#define I386_BRK    45
#define I386_MMAP   90
#define I386_IPC    117
#define I386_CLONE  120
#define I386_MMAP2  192
#define I386_SHMGET 395
#define I386_CLONE3 435
#define IPC_SHMGET  23
#define X32_BIT     0x40000000L

static long int80(long nr, long a, long b, long c, long d, long e, long f) {
        long ret;

        /* ebp is the sixth argument; rbp may be the frame pointer, so it is saved around the call. r8-r11 are
         * clobbered by the compat entry on some kernels. */
        __asm__ volatile("push %%rbp\n\t"
                         "mov %k[f], %%ebp\n\t"
                         "int $0x80\n\t"
                         "pop %%rbp"
                         : "=a"(ret)
                         : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e), [f] "r"(f)
                         : "memory", "cc", "r8", "r9", "r10", "r11");
        /* The compat call returns a 32-bit value: -4095..-1 is an error. */
        int32_t r32 = (int32_t) ret;
        return r32 < 0 && r32 >= -4095 ? r32 : (long) (uint32_t) ret;
}

static int child_result(long pid) {
        int status;

        if (pid < 0)
                return (int) -pid;
        if (pid == 0)
                _exit(0);
        return waitpid((pid_t) pid, &status, 0) < 0 ? errno : 0;
}

static void *last;
static size_t last_len;

int main(int argc, char **argv) {
        for (int i = 1; i < argc; i++) {
                const char *op = argv[i], *arg = strchr(op, ':') ? strchr(op, ':') + 1 : "";
                long r;
                int err = 0;

                if (strncmp(op, "mmap2:", 6) == 0) {
                        r = int80(I386_MMAP2, 0, (long) parse_size(arg), PROT_READ | PROT_WRITE,
                                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                        err = r < 0 ? (int) -r : 0;
                } else if (strncmp(op, "mmap2-shared:", 13) == 0) {
                        r = int80(I386_MMAP2, 0, (long) parse_size(arg), PROT_READ | PROT_WRITE,
                                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
                        err = r < 0 ? (int) -r : 0;
                } else if (strncmp(op, "oldmmap:", 8) == 0) {
                        /* struct mmap_arg_struct of i386: six 32-bit words, at an address the compat call can
                         * name. */
                        uint32_t *args = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
                        if (args == MAP_FAILED)
                                err = errno;
                        else {
                                args[0] = 0;
                                args[1] = (uint32_t) parse_size(arg);
                                args[2] = PROT_READ | PROT_WRITE;
                                args[3] = MAP_PRIVATE | MAP_ANONYMOUS;
                                args[4] = (uint32_t) -1;
                                args[5] = 0;
                                r = int80(I386_MMAP, (long) (uintptr_t) args, 0, 0, 0, 0, 0);
                                err = r < 0 ? (int) -r : 0;
                        }
                } else if (strcmp(op, "fork") == 0) {
                        fflush(stdout);
                        err = child_result(int80(I386_FORK, 0, 0, 0, 0, 0, 0));
                } else if (strcmp(op, "clone") == 0) {
                        fflush(stdout);
                        err = child_result(int80(I386_CLONE, SIGCHLD, 0, 0, 0, 0, 0));
                } else if (strncmp(op, "shmget:", 7) == 0 || strncmp(op, "shmget-v1:", 10) == 0) {
                        long call = IPC_SHMGET | (op[6] == '-' ? 1L << 16 : 0);
                        r = int80(I386_IPC, call, IPC_PRIVATE, (long) parse_size(arg), IPC_CREAT | 0600, 0, 0);
                        err = r < 0 ? (int) -r : 0;
                        if (r >= 0)
                                shmctl((int) r, IPC_RMID, NULL);
                } else if (strncmp(op, "shmget395:", 10) == 0) {
                        r = int80(I386_SHMGET, IPC_PRIVATE, (long) parse_size(arg), IPC_CREAT | 0600, 0, 0, 0);
                        err = r < 0 ? (int) -r : 0;
                } else if (strcmp(op, "clone3") == 0) {
                        r = int80(I386_CLONE3, 0, 0, 0, 0, 0, 0);
                        err = r < 0 ? (int) -r : 0;
                        if (r >= 0) /* cannot happen with no arguments; a child would exit here */
                                err = child_result(r);
                } else if (strncmp(op, "pkey-mprotect:", 14) == 0) {
                        size_t len = parse_size(arg);
                        void *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                        if (p == MAP_FAILED)
                                err = errno;
                        else if (syscall(SYS_pkey_mprotect, p, len, PROT_READ | PROT_WRITE, -1) < 0)
                                err = errno;
                } else if (strncmp(op, "map:", 4) == 0) {
                        last_len = parse_size(arg);
                        last = mmap(NULL, last_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                        err = last == MAP_FAILED ? errno : 0;
                } else if (strcmp(op, "dontfork") == 0 || strcmp(op, "dofork") == 0) {
                        if (madvise(last, last_len, strcmp(op, "dofork") == 0 ? MADV_DOFORK : MADV_DONTFORK) < 0)
                                err = errno;
                } else if (strcmp(op, "fork64") == 0) {
                        fflush(stdout);
                        pid_t pid = fork();
                        err = child_result(pid < 0 ? -errno : pid);
                } else if (strcmp(op, "x32fork") == 0) {
                        fflush(stdout);
                        r = syscall(X32_BIT | SYS_fork);
                        err = child_result(r == -1 ? -errno : r);
                } else if (strncmp(op, "brk:", 4) == 0) {
                        long cur = int80(I386_BRK, 0, 0, 0, 0, 0, 0), want = cur + (long) parse_size(arg);
                        r = int80(I386_BRK, want, 0, 0, 0, 0, 0);
                        err = cur <= 0 || want > UINT32_MAX ? EFAULT : r == want ? 0 : ENOMEM;
                } else if (strncmp(op, "x32mmap:", 8) == 0) {
                        r = syscall(X32_BIT | SYS_mmap, 0, parse_size(arg), PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                        err = r == -1 ? errno : 0;
                } else {
                        fprintf(stderr, "int80: unknown operation '%s'\n", op);
                        return 2;
                }
                report(op, err);
        }
        return 0;
}
