/* SPDX-License-Identifier: MIT */
/* Issue 9: glibc's malloc driven through brk refusals, enrolled in a small strict budget (tests/root/brk.sh).
 *   brk PHASE LIMIT      PHASE: malloc, sbrk, fork or threads; LIMIT: the budget (64M), for the charge check
 * brk(2) never fails with an errno: a refused brk returns the old break, and glibc's __brk stores whatever comes
 * back as its own idea of the break (__curbrk), which sbrk(0) returns without a system call. So after every
 * growth that may have been refused, libc's break must equal the kernel's (syscall(SYS_brk, 0) returns
 * mm->brk exactly). A break answered below the real one makes the next sbrk shrink the heap under live blocks
 * (glibc: "break adjusted to free malloc space", or a SIGSEGV); above it, malloc hands out unmapped memory.
 * A mismatch is reported, then repaired (brk() to the kernel's value) so that the phase goes on and finds the
 * next one. Every block is filled with a pattern and verified before it is freed and at the end; a SIGSEGV,
 * SIGBUS or SIGABRT (glibc's heap checks) is reported with both breaks and fails the run.
 * At each refusal the process's charge as the kernel counts it (/proc/self/smaps) must be within LIMIT.
 * Between rounds commitd is made to re-measure (a refused 1 GiB mapping; and a pause longer than the
 * --upkeep-interval 1 the shell gives it), so answers built from a fresh measure are checked too.
 *   malloc   grow until refused (smaller and smaller blocks down to 4 KiB), verify, free half, grow into the
 *            holes and past them until refused, free all, trim; four rounds
 *   sbrk     sbrk() itself with odd increments (the break is not page aligned), until refused, shrink, grow
 *   fork     a heap with holes, fork; the child checks at once, then grows its own heap until refused (its
 *            heap is the parent's area plus areas of its own: /proc/PID/maps shows several [heap] lines)
 *   threads  one malloc arena (M_ARENA_MAX 1), two threads growing it in turns (only the main thread asks
 *            the kernel, so the other's brk calls are judged on what commitd remembers), then both at once
 *            (small blocks malloc'd and freed at random); then 16 MiB malloc'd by the other thread, freed and
 *            trimmed by main, malloc'd again by the other after a measure, and main grows to the refusal: the
 *            kernel's charge must still be within the budget
 * Prints "FAIL PHASE: ..." per failed check and "OK PHASE: ..." at the end; exits 1 on any failure. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "report.h"

#define MAX_BLOCKS 8192
#define MIN_BLOCK  (4u << 10)
#define MAX_BLOCK  (1u << 20)

struct block {
        uint64_t *p;
        size_t len;
};

struct blocks {
        struct block b[MAX_BLOCKS];
        size_t n;
};

#define SMAPS_MAX (1u << 20)

static const char *phase;
static char *smaps_buf; /* SMAPS_MAX */
static uint64_t limit_bytes;
static pid_t parent_pid; /* fork: the child adds its waiting parent's charge to its own */
static atomic_int failures;
static int checks, refused;

static __thread uint64_t rnd_state = 88172645463325252ull;

static uint64_t rnd(void) {
        rnd_state ^= rnd_state << 13;
        rnd_state ^= rnd_state >> 7;
        rnd_state ^= rnd_state << 17;
        return rnd_state;
}

static uintptr_t kernel_brk(void) {
        return (uintptr_t) syscall(SYS_brk, 0);
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...) {
        va_list ap;

        printf("FAIL %s: ", phase);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        failures++;
}

/* libc's break against the kernel's. On a mismatch, brk() to the kernel's value sets libc's again (the kernel
 * answers an unchanged break with itself), so one wrong answer is reported once and does no harm later. */
static void check_brk(const char *when, size_t n) {
        uintptr_t mine = (uintptr_t) sbrk(0), kernel = kernel_brk();

        checks++;
        if (mine == kernel)
                return;
        fail("%s (%zu): libc's break is %#lx, the kernel's %#lx: %+ld bytes (%.1f MiB)", when, n, (unsigned long) mine,
             (unsigned long) kernel, (long) (mine - kernel), (double) (long) (mine - kernel) / (1 << 20));
        if (brk((void *) kernel) < 0 || (uintptr_t) sbrk(0) != kernel_brk()) {
                /* The next sbrk would start from the wrong break: stop before the heap is damaged. */
                fail("%s: brk() to the kernel's break %#lx is refused too: stopping, the heap is no longer safe", when,
                     (unsigned long) kernel);
                _exit(1);
        }
}

/* The commit of one process as the kernel counts it: areas flagged ac (VM_ACCOUNT), and private writable
 * areas flagged nr (MAP_NORESERVE), which a strict budget charges too. Read without malloc (the sbrk phase
 * must not use it). */
static uint64_t charge_of(pid_t pid) {
        char path[64];
        uint64_t total = 0, size = 0;
        bool private_writable = false;
        ssize_t len = 0, r;
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/smaps", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        while ((r = read(fd, smaps_buf + len, SMAPS_MAX - 1 - (size_t) len)) > 0)
                len += r;
        close(fd);
        smaps_buf[len] = 0;
        for (char *line = smaps_buf, *next; *line; line = next) {
                next = strchr(line, '\n');
                next = next ? next + 1 : line + strlen(line);
                unsigned long lo, hi;
                char perms[5];
                if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3) {
                        size = hi - lo;
                        private_writable = perms[1] == 'w' && perms[3] == 'p';
                } else if (strncmp(line, "VmFlags:", 8) == 0) {
                        char *end = strchr(line, '\n');
                        char flags[256];
                        snprintf(flags, sizeof(flags), " %.*s ", (int) ((end ? end : next) - line - 8), line + 8);
                        if (strstr(flags, " ac ") || (private_writable && strstr(flags, " nr ")))
                                total += size;
                }
        }
        return total;
}

/* At a refusal: what the kernel charges this process (and the parent a fork child shares the budget with)
 * is within the budget, one page of slack. */
static void check_charge(const char *when) {
        uint64_t c = charge_of(getpid()) + (parent_pid ? charge_of(parent_pid) : 0);

        if (c > limit_bytes + 4096)
                fail("%s: the kernel charges %.1f MiB, over the %.1f MiB budget", when, (double) c / (1 << 20),
                     (double) limit_bytes / (1 << 20));
}

static uint64_t pattern(const uint64_t *p, size_t i) {
        return ((uintptr_t) p * 0x9E3779B97F4A7C15ull) ^ (i * 0xBF58476D1CE4E5B9ull) ^ 0xC0FFEE;
}

static void fill(struct block *b) {
        for (size_t i = 0; i < b->len / 8; i++)
                b->p[i] = pattern(b->p, i);
}

static void verify_block(const struct block *b, size_t k, const char *when) {
        for (size_t i = 0; b->p && i < b->len / 8; i++)
                if (b->p[i] != pattern(b->p, i)) {
                        fail("%s: block %zu (%zu bytes at %p) corrupted at byte %zu", when, k, b->len, (void *) b->p,
                             i * 8);
                        return;
                }
}

static void verify(const struct blocks *bs, const char *when) {
        for (size_t k = 0; k < bs->n; k++)
                verify_block(&bs->b[k], k, when);
}

static void free_blocks(struct blocks *bs, unsigned every) {
        for (size_t k = 0; k < bs->n; k += every) {
                free(bs->b[k].p);
                bs->b[k].p = NULL;
        }
}

static size_t random_block(void) {
        return MIN_BLOCK + (size_t) (rnd() % (MAX_BLOCK - MIN_BLOCK));
}

/* One malloc, its pattern, and the break check: returns false when malloc gave NULL. */
static bool grow_one(struct blocks *bs, size_t len, const char *when) {
        void *p = malloc(len);

        check_brk(when, len);
        if (!p)
                return false;
        if (bs->n == MAX_BLOCKS) {
                fail("%s: more than %d blocks: is the budget enforced?", when, MAX_BLOCKS);
                free(p);
                return false;
        }
        bs->b[bs->n] = (struct block){p, len};
        fill(&bs->b[bs->n++]);
        return true;
}

/* Mallocs until refused, then smaller blocks until even MIN_BLOCK is refused: the heap ends at the budget. */
static void grow_until_refused(struct blocks *bs, const char *when) {
        size_t len = random_block();
        int refusals = 0;

        while (len >= MIN_BLOCK) {
                if (grow_one(bs, len, when)) {
                        if (refusals == 0)
                                len = random_block();
                        continue;
                }
                if (failures > 100)
                        return;
                refusals++;
                check_charge(when);
                len /= 2;
        }
        refused += refusals;
        if (refusals == 0)
                fail("%s: malloc never returned NULL: is the budget enforced?", when);
}

/* Makes commitd measure again: a refused mapping is measured exactly before it is refused; a pause longer
 * than the upkeep interval (1 s in brk.sh) lets the upkeep measure too. */
static void remeasure(bool pause) {
        void *p = mmap(NULL, 1ul << 30, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        if (p != MAP_FAILED) {
                fail("a 1 GiB mapping passed the budget");
                munmap(p, 1ul << 30);
        } else if (errno != ENOMEM)
                fail("a 1 GiB mapping failed with %s, not ENOMEM", strerrorname_np(errno));
        check_brk("after a refused mmap", 1ul << 30);
        if (pause)
                nanosleep(&(struct timespec){.tv_sec = 1, .tv_nsec = 300 * 1000 * 1000}, NULL);
        check_brk("after an upkeep", 0);
}

static void on_signal(int sig, siginfo_t *si, void *ctx) {
        (void) ctx;
        /* Dying anyway: what the heap looked like is worth more than async-signal safety. */
        dprintf(STDOUT_FILENO, "FAIL %s: %s at %p; libc's break %p, the kernel's %#lx\n", phase, strsignal(sig),
                si->si_addr, sbrk(0), (unsigned long) kernel_brk());
        signal(sig, SIG_DFL);
        raise(sig);
}

static struct blocks *main_blocks;

static void phase_malloc(void) {
        char when[64];

        for (int round = 0; round < 4; round++) {
                snprintf(when, sizeof(when), "round %d: growing", round);
                grow_until_refused(main_blocks, when);
                verify(main_blocks, "after growing");
                free_blocks(main_blocks, 2);
                snprintf(when, sizeof(when), "round %d: growing into holes", round);
                grow_until_refused(main_blocks, when);
                verify(main_blocks, "after growing into holes");
                free_blocks(main_blocks, 1);
                main_blocks->n = 0;
                malloc_trim(0);
                check_brk("after free and malloc_trim", 0);
                remeasure(round % 2 == 1);
        }
}

static void sbrk_fill(uintptr_t lo, uintptr_t hi) {
        for (uintptr_t a = lo; a < hi; a++)
                *(volatile unsigned char *) a = (unsigned char) (a * 131 >> 3);
}

static void sbrk_verify(uintptr_t lo, uintptr_t hi, const char *when) {
        for (uintptr_t a = lo; a < hi; a++)
                if (*(volatile unsigned char *) a != (unsigned char) (a * 131 >> 3)) {
                        fail("%s: heap byte at %#lx changed", when, (unsigned long) a);
                        return;
                }
}

/* sbrk by odd increments until refused, then halving down to one byte: the break ends unaligned. */
static void sbrk_until_refused(uintptr_t start, const char *when) {
        intptr_t inc = (intptr_t) (random_block() | 1);
        int refusals = 0;

        while (inc >= 1) {
                uintptr_t old = (uintptr_t) sbrk(0);
                void *r = sbrk(inc);
                check_brk(when, (size_t) inc);
                if (r != (void *) -1) {
                        sbrk_fill(old, old + (uintptr_t) inc);
                        if (refusals == 0)
                                inc = (intptr_t) (random_block() | 1);
                        continue;
                }
                if (errno != ENOMEM)
                        fail("%s: sbrk(%ld) failed with %s, not ENOMEM", when, (long) inc, strerrorname_np(errno));
                refusals++;
                check_charge(when);
                inc /= 2;
        }
        refused += refusals;
        if (refusals == 0)
                fail("%s: sbrk never failed: is the budget enforced?", when);
        sbrk_verify(start, (uintptr_t) sbrk(0), when);
}

static void phase_sbrk(void) {
        uintptr_t start = (uintptr_t) sbrk(0);
        char when[64];

        for (int round = 0; round < 4; round++) {
                snprintf(when, sizeof(when), "round %d: sbrk", round);
                sbrk_until_refused(start, when);
                uintptr_t cur = (uintptr_t) sbrk(0), half = start + (cur - start) / 2 + 1;
                if (sbrk(-(intptr_t) (cur - half)) == (void *) -1)
                        fail("round %d: shrinking the heap by %lu bytes failed", round, (unsigned long) (cur - half));
                check_brk("after shrinking", cur - half);
                sbrk_verify(start, (uintptr_t) sbrk(0), "after shrinking");
                snprintf(when, sizeof(when), "round %d: sbrk after shrinking", round);
                sbrk_until_refused(start, when);
                remeasure(round % 2 == 1);
                sbrk_verify(start, (uintptr_t) sbrk(0), "after a re-measure");
                snprintf(when, sizeof(when), "round %d: sbrk after a re-measure", round);
                sbrk_until_refused(start, when);
                if (brk((void *) start) < 0)
                        fail("round %d: brk() back to the start failed", round);
                check_brk("after brk() back to the start", 0);
        }
}

static void phase_fork(void) {
        char when[64];

        /* 12 MiB of heap with holes in it: the child inherits that area. */
        for (size_t total = 0; total < (12u << 20);) {
                size_t len = random_block();
                if (!grow_one(main_blocks, len, "before fork")) {
                        fail("before fork: malloc refused within the budget");
                        break;
                }
                total += len;
        }
        free_blocks(main_blocks, 3);
        check_brk("before fork", 0);
        for (int round = 0; round < 2; round++) {
                pid_t pid = fork();
                if (pid < 0) {
                        fail("round %d: fork: %s", round, strerror(errno));
                        return;
                }
                if (pid == 0) {
                        phase = "fork child";
                        parent_pid = getppid();
                        check_brk("in the child, at once", 0);
                        verify(main_blocks, "the parent's blocks in the child");
                        for (int r = 0; r < 2; r++) {
                                snprintf(when, sizeof(when), "round %d.%d: growing the child's heap", round, r);
                                grow_until_refused(main_blocks, when);
                                verify(main_blocks, "in the child after growing");
                                remeasure(r == 1);
                                free_blocks(main_blocks, 2);
                                snprintf(when, sizeof(when), "round %d.%d: growing after a re-measure", round, r);
                                grow_until_refused(main_blocks, when);
                                verify(main_blocks, "in the child after a re-measure");
                        }
                        if (failures == 0)
                                printf("OK fork child: %d refused growths, %d break checks\n", refused, checks);
                        _exit(failures ? 1 : 0);
                }
                int status;
                while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                        ;
                if (WIFSIGNALED(status))
                        fail("round %d: the child was killed by %s", round, strsignal(WTERMSIG(status)));
                else if (WEXITSTATUS(status) != 0)
                        fail("round %d: the child failed (its lines above)", round);
                check_brk("in the parent after the child", 0);
                verify(main_blocks, "in the parent after the child");
                snprintf(when, sizeof(when), "round %d: growing the parent's heap", round);
                size_t keep = main_blocks->n;
                grow_until_refused(main_blocks, when);
                verify(main_blocks, "in the parent after growing");
                /* Back to the inherited heap, so the next child has room to grow its own. */
                for (size_t k = keep; k < main_blocks->n; k++)
                        free(main_blocks->b[k].p);
                main_blocks->n = keep;
                malloc_trim(0);
                check_brk("in the parent after trimming", 0);
                remeasure(false);
        }
}

/* threads: the other thread does what main asks (one command at a time) on the one arena; only main asks the
 * kernel for its break, and only while the other thread waits for its next command, so both breaks are still. */
enum command { CMD_NONE, CMD_GROW, CMD_BIG, CMD_FREE_RUNNING, CMD_EXIT };
static pthread_mutex_t cmd_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cmd_cond = PTHREAD_COND_INITIALIZER;
static enum command cmd; /* under cmd_lock; CMD_NONE once done */
static size_t cmd_len;   /* CMD_GROW: the size to malloc */
static bool cmd_ok;      /* CMD_GROW, CMD_BIG: malloc gave memory */
static struct block big; /* CMD_BIG */
static struct blocks *other_blocks;

static void post(enum command c, bool wait) {
        pthread_mutex_lock(&cmd_lock);
        cmd = c;
        pthread_cond_broadcast(&cmd_cond);
        while (wait && cmd != CMD_NONE)
                pthread_cond_wait(&cmd_cond, &cmd_lock);
        pthread_mutex_unlock(&cmd_lock);
}

static void wait_done(void) {
        pthread_mutex_lock(&cmd_lock);
        while (cmd != CMD_NONE)
                pthread_cond_wait(&cmd_cond, &cmd_lock);
        pthread_mutex_unlock(&cmd_lock);
}

/* Drops the freed entries, so that n counts the live blocks. */
static void compact(struct blocks *bs) {
        size_t n = 0;

        for (size_t k = 0; k < bs->n; k++)
                if (bs->b[k].p)
                        bs->b[n++] = bs->b[k];
        bs->n = n;
}

/* Small blocks malloc'd and freed at random (a little more of the former), each verified before its free. */
static void free_running(struct blocks *bs, const char *when) {
        compact(bs);
        for (int i = 0; i < 3000; i++) {
                if (bs->n > 0 && rnd() % 100 < 45) {
                        size_t k = (size_t) (rnd() % bs->n);
                        verify_block(&bs->b[k], k, when);
                        free(bs->b[k].p);
                        bs->b[k] = bs->b[--bs->n];
                } else if (bs->n < MAX_BLOCKS) {
                        size_t len = MIN_BLOCK + (size_t) (rnd() % (28u << 10));
                        void *p = malloc(len);
                        if (p) {
                                bs->b[bs->n] = (struct block){p, len};
                                fill(&bs->b[bs->n++]);
                        }
                }
        }
}

static void *other_main(void *arg) {
        (void) arg;
        for (;;) {
                pthread_mutex_lock(&cmd_lock);
                while (cmd == CMD_NONE)
                        pthread_cond_wait(&cmd_cond, &cmd_lock);
                enum command c = cmd;
                pthread_mutex_unlock(&cmd_lock);
                switch (c) {
                case CMD_GROW:
                        cmd_ok = other_blocks->n < MAX_BLOCKS && (other_blocks->b[other_blocks->n].p = malloc(cmd_len));
                        if (cmd_ok) {
                                other_blocks->b[other_blocks->n].len = cmd_len;
                                fill(&other_blocks->b[other_blocks->n++]);
                        }
                        break;
                case CMD_BIG:
                        big = (struct block){malloc(16u << 20), 16u << 20};
                        cmd_ok = big.p != NULL;
                        if (cmd_ok)
                                fill(&big);
                        break;
                case CMD_FREE_RUNNING:
                        free_running(other_blocks, "the other thread, free running");
                        break;
                case CMD_EXIT:
                case CMD_NONE:
                default:
                        break;
                }
                post(CMD_NONE, false);
                if (c == CMD_EXIT)
                        return NULL;
        }
}

/* Both threads malloc in turns until both are refused even MIN_BLOCK. */
static void grow_in_turns(const char *when) {
        size_t len = random_block(), other_len = random_block();
        int refusals = 0;

        while (len >= MIN_BLOCK || other_len >= MIN_BLOCK) {
                if (other_len >= MIN_BLOCK) {
                        cmd_len = other_len;
                        post(CMD_GROW, true);
                        check_brk(when, other_len); /* the other thread's malloc, maybe a brk of its own */
                        if (!cmd_ok)
                                refusals++, other_len /= 2, check_charge(when);
                        else if (other_len > MAX_BLOCK / 2)
                                other_len = random_block();
                }
                if (len >= MIN_BLOCK) {
                        if (!grow_one(main_blocks, len, when))
                                refusals++, len /= 2, check_charge(when);
                        else if (len > MAX_BLOCK / 2)
                                len = random_block();
                }
                if (failures > 100)
                        break;
        }
        refused += refusals;
        if (refusals == 0)
                fail("%s: malloc never returned NULL: is the budget enforced?", when);
}

static void phase_threads(void) {
        char when[64];
        pthread_t t;

        mallopt(M_ARENA_MAX, 1); /* the other thread's blocks come from the main arena, grown by brk */
        if (pthread_create(&t, NULL, other_main, NULL) != 0) {
                fail("pthread_create: %s", strerror(errno));
                return;
        }
        for (int round = 0; round < 3; round++) {
                snprintf(when, sizeof(when), "round %d: growing in turns", round);
                grow_in_turns(when);
                verify(main_blocks, "main's blocks after growing in turns");
                verify(other_blocks, "the other thread's blocks after growing in turns");
                free_blocks(main_blocks, 2);
                free_blocks(other_blocks, 2);
                /* Both at once for a while; main checks once the other thread waits again. */
                post(CMD_FREE_RUNNING, false);
                free_running(main_blocks, "main, free running");
                wait_done();
                check_brk("after both threads ran at once", 0);
                verify(main_blocks, "main's blocks after running at once");
                verify(other_blocks, "the other thread's blocks after running at once");
                free_blocks(main_blocks, 1);
                free_blocks(other_blocks, 1);
                main_blocks->n = other_blocks->n = 0;
                malloc_trim(0);
                check_brk("after free and malloc_trim", 0);
                remeasure(round == 1);
        }
        /* The heap grown by one thread, shrunk by the other, grown again by the first after a measure: commitd
         * must judge the second growth on the break as it is, not as the first thread last left it. */
        for (int round = 0; round < 2; round++) {
                post(CMD_BIG, true);
                check_brk("16 MiB malloc'd by the other thread", 16u << 20);
                if (!cmd_ok) {
                        fail("round %d: the other thread's 16 MiB malloc was refused within the budget", round);
                        break;
                }
                verify_block(&big, 0, "the other thread's 16 MiB");
                free(big.p); /* freed by main: the top of the heap, so main trims it with brk */
                malloc_trim(0);
                check_brk("16 MiB freed and trimmed by main", 0);
                remeasure(false);
                post(CMD_BIG, true);
                check_brk("16 MiB malloc'd again by the other thread", 16u << 20);
                snprintf(when, sizeof(when), "round %d: main growing after the other's regrowth", round);
                grow_until_refused(main_blocks, when); /* checks what the kernel charges at the refusals */
                verify(main_blocks, "main's blocks after the other's regrowth");
                if (big.p) {
                        verify_block(&big, 0, "the other thread's 16 MiB, again");
                        free(big.p);
                }
                free_blocks(main_blocks, 1);
                main_blocks->n = 0;
                malloc_trim(0);
                check_brk("after free and malloc_trim", 0);
                remeasure(false);
        }
        post(CMD_EXIT, true);
        pthread_join(t, NULL);
}

int main(int argc, char **argv) {
        struct sigaction sa = {.sa_sigaction = on_signal, .sa_flags = SA_SIGINFO};

        if (argc != 3) {
                fprintf(stderr, "usage: brk malloc|sbrk|fork|threads LIMIT\n");
                return 2;
        }
        /* Unbuffered: printf then never mallocs (the sbrk phase must not) and a forked child repeats nothing. */
        setvbuf(stdout, NULL, _IONBF, 0);
        phase = argv[1];
        limit_bytes = parse_size(argv[2]);
        rnd_state ^= (uint64_t) getpid() << 32;
        /* The bookkeeping mapped now rather than in .bss: the commit an exec brings is not judged (commitd
         * learns it at its next measure), a mapping is. */
        main_blocks = mmap(NULL, sizeof(*main_blocks), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        other_blocks = mmap(NULL, sizeof(*other_blocks), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        smaps_buf = mmap(NULL, SMAPS_MAX, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (main_blocks == MAP_FAILED || other_blocks == MAP_FAILED || smaps_buf == MAP_FAILED) {
                printf("FAIL %s: mmap of the bookkeeping: %s\n", phase, strerror(errno));
                return 1;
        }
        sigaction(SIGSEGV, &sa, NULL);
        sigaction(SIGBUS, &sa, NULL);
        sigaction(SIGABRT, &sa, NULL);
        /* Every block of up to 1 MiB from the heap, grown by brk: glibc's default (128 KiB, raised as mapped
         * blocks are freed) would send most of them to mmap. */
        mallopt(M_MMAP_THRESHOLD, 32 << 20);
        check_brk("at start", 0);
        if (strcmp(phase, "malloc") == 0)
                phase_malloc();
        else if (strcmp(phase, "sbrk") == 0)
                phase_sbrk();
        else if (strcmp(phase, "fork") == 0)
                phase_fork();
        else if (strcmp(phase, "threads") == 0)
                phase_threads();
        else {
                fprintf(stderr, "brk: unknown phase %s\n", phase);
                return 2;
        }
        verify(main_blocks, "at the end");
        if (failures)
                return 1;
        printf("OK %s: %d refused growths, %d break checks\n", phase, refused, checks);
        return 0;
}
