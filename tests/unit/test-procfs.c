/* SPDX-License-Identifier: MIT */
/* procfs readers: golden files under tests/data/procfs, captured from the development VM (see its README).
 * X.in is what the kernel printed; X.ok is the parsed struct as stable text. COMMITD_UPDATE_GOLDEN=1
 * rewrites the .ok files from what the parser does now. Beside the goldens, the figures the capture program
 * mapped are asserted directly, and table tests feed malformed buffers. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "golden.h"
#include "macro.h"
#include "procfs.h"

#define KiB(n) ((uint64_t) (n) *1024)

/* $COMMITD_TEST_DATA/procfs/NAME (caller frees). */
static char *data_path(const char *name) {
        return test_data_path("procfs", name);
}

/* Compares got with procfs/NAME.ok, or writes it there under COMMITD_UPDATE_GOLDEN=1. */
static void check_golden(const char *name, const char *got) {
        _cleanup_free_ char *ok_name = NULL, *ok = NULL;

        assert_true(asprintf(&ok_name, "%s.ok", name) > 0);
        ok = data_path(ok_name);
        golden_check(ok, got);
}

/* A FILE* collecting the printer's text; finish() returns it (caller frees). */
struct text {
        char *buf;
        size_t len;
        FILE *f;
};

static void text_begin(struct text *t) {
        *t = (struct text){0};
        t->f = open_memstream(&t->buf, &t->len);
        assert_non_null(t->f);
}

static char *text_finish(struct text *t) {
        assert_int_equal(fclose(t->f), 0);
        return t->buf;
}

/* ---- printers: one line per field, "name value", sizes in bytes ---- */

static char *print_meminfo(const struct meminfo *m) {
        struct text t;

        text_begin(&t);
        fprintf(t.f, "mem_total %" PRIu64 "\n", m->mem_total);
        fprintf(t.f, "mem_free %" PRIu64 "\n", m->mem_free);
        fprintf(t.f, "mem_available %" PRIu64 "\n", m->mem_available);
        fprintf(t.f, "buffers %" PRIu64 "\n", m->buffers);
        fprintf(t.f, "cached %" PRIu64 "\n", m->cached);
        fprintf(t.f, "swap_total %" PRIu64 "\n", m->swap_total);
        fprintf(t.f, "swap_free %" PRIu64 "\n", m->swap_free);
        fprintf(t.f, "shmem %" PRIu64 "\n", m->shmem);
        fprintf(t.f, "sreclaimable %" PRIu64 "\n", m->sreclaimable);
        fprintf(t.f, "commit_limit %" PRIu64 "\n", m->commit_limit);
        fprintf(t.f, "committed_as %" PRIu64 "\n", m->committed_as);
        fprintf(t.f, "hugepages_total %" PRIu64 "\n", m->hugepages_total);
        fprintf(t.f, "hugepagesize %" PRIu64 "\n", m->hugepagesize);
        fprintf(t.f, "hugetlb %" PRIu64 "\n", m->hugetlb);
        return text_finish(&t);
}

static char *print_overcommit(const struct overcommit *o) {
        struct text t;

        text_begin(&t);
        fprintf(t.f, "mode %d\n", (int) o->mode);
        fprintf(t.f, "ratio %" PRIu32 "\n", o->ratio);
        fprintf(t.f, "kbytes_bytes %" PRIu64 "\n", o->kbytes_bytes);
        fprintf(t.f, "admin_reserve_bytes %" PRIu64 "\n", o->admin_reserve_bytes);
        fprintf(t.f, "user_reserve_bytes %" PRIu64 "\n", o->user_reserve_bytes);
        return text_finish(&t);
}

static const char *shmem_kind_name(enum shmem_kind k) {
        return k == SHMEM_SYSV ? "sysv" : k == SHMEM_SHARED_ANON ? "shared-anon" : "file";
}

static const char *shmem_accounting_name(enum shmem_accounting a) {
        return a == SHMEM_WHOLE ? "whole" : a == SHMEM_WHOLE_IN_STRICT ? "whole-in-strict" : "pages";
}

static char *print_smaps(const struct smaps_charge *c) {
        struct text t;

        text_begin(&t);
        fprintf(t.f, "accountable_bytes %" PRIu64 "\n", c->accountable_bytes);
        fprintf(t.f, "dontcopy_accountable_bytes %" PRIu64 "\n", c->dontcopy_accountable_bytes);
        fprintf(t.f, "noreserve_bytes %" PRIu64 "\n", c->noreserve_bytes);
        fprintf(t.f, "shmem_bytes %" PRIu64 "\n", c->shmem_bytes);
        fprintf(t.f, "shmem_strict_bytes %" PRIu64 "\n", c->shmem_strict_bytes);
        fprintf(t.f, "n_shmem %zu\n", c->n_shmem);
        /* shmem DEV INODE IPC_NS KIND ACCOUNTING SIZE ALLOCATED measured|estimated */
        for (size_t i = 0; i < c->n_shmem; i++) {
                const struct shmem_object *o = &c->shmem[i];
                fprintf(t.f, "shmem %u:%u %" PRIu64 " %" PRIu64 " %s %s %" PRIu64 " %" PRIu64 " %s\n",
                        major((dev_t) o->dev), minor((dev_t) o->dev), o->inode, o->ipc_ns, shmem_kind_name(o->kind),
                        shmem_accounting_name(o->accounting), o->size_bytes, o->allocated_bytes,
                        o->estimated ? "estimated" : "measured");
        }
        fprintf(t.f, "charge_heuristic %" PRIu64 "\n", smaps_charge_bytes(c, COMMIT_MODE_GUESS));
        fprintf(t.f, "charge_always %" PRIu64 "\n", smaps_charge_bytes(c, COMMIT_MODE_ALWAYS));
        fprintf(t.f, "charge_strict %" PRIu64 "\n", smaps_charge_bytes(c, COMMIT_MODE_NEVER));
        return text_finish(&t);
}

static char *print_status(const struct proc_status *s) {
        struct text t;

        text_begin(&t);
        fprintf(t.f, "name %s\n", s->name);
        fprintf(t.f, "pid %d\n", (int) s->pid);
        fprintf(t.f, "tgid %d\n", (int) s->tgid);
        fprintf(t.f, "ppid %d\n", (int) s->ppid);
        fprintf(t.f, "uid_real %u\n", (unsigned) s->uid_real);
        fprintf(t.f, "uid_effective %u\n", (unsigned) s->uid_effective);
        fprintf(t.f, "has_mm %s\n", s->has_mm ? "yes" : "no");
        fprintf(t.f, "threads %" PRIu64 "\n", s->threads);
        fprintf(t.f, "vm_size_bytes %" PRIu64 "\n", s->vm_size_bytes);
        fprintf(t.f, "cap_effective 0x%016" PRIx64 "\n", s->cap_effective);
        return text_finish(&t);
}

/* ---- golden files ---- */

static void test_meminfo_golden(void **state) {
        _cleanup_free_ char *path = data_path("meminfo-host.in"), *got = NULL;
        struct meminfo m;
        (void) state;

        assert_int_equal(meminfo_read(path, &m), 0);
        got = print_meminfo(&m);
        check_golden("meminfo-host", got);

        /* The figures of the capture, kB times 1024. */
        assert_int_equal(m.mem_total, KiB(24684084));
        assert_int_equal(m.commit_limit, KiB(12342040));
        assert_int_equal(m.swap_total, 0);
        assert_int_equal(m.hugepagesize, KiB(2048));
}

/* Hand-written: swap and a hugetlb pool, which the host lacks (the seed's MemTotal and CommitLimit). */
static void test_meminfo_handmade_golden(void **state) {
        _cleanup_free_ char *path = data_path("meminfo-handmade.in"), *got = NULL;
        struct meminfo m;
        (void) state;

        assert_int_equal(meminfo_read(path, &m), 0);
        got = print_meminfo(&m);
        check_golden("meminfo-handmade", got);
        assert_int_equal(m.mem_total, KiB(12183700));
        assert_int_equal(m.commit_limit, KiB(12061860));
        assert_int_equal(m.swap_total, KiB(2097148));
        assert_int_equal(m.hugetlb, KiB(1179648));
}

static void test_overcommit_golden(void **state) {
        _cleanup_free_ char *path = data_path("sysctl-vm-host"), *got = NULL;
        struct overcommit o;
        (void) state;

        assert_int_equal(overcommit_read(path, &o), 0);
        got = print_overcommit(&o);
        check_golden("sysctl-vm-host", got);

        assert_int_equal(o.mode, COMMIT_MODE_GUESS);
        assert_int_equal(o.ratio, 50);
        assert_int_equal(o.kbytes_bytes, 0);
        assert_int_equal(o.admin_reserve_bytes, KiB(8192));
        assert_int_equal(o.user_reserve_bytes, KiB(100403));
}

static void test_smaps_golden(void **state) {
        static const char *const names[] = {"smaps-mapper", "smaps-kthread"};
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_free_ char *in = NULL, *path = NULL, *got = NULL;
                struct smaps_charge c;

                assert_true(asprintf(&in, "%s.in", names[i]) > 0);
                path = data_path(in);
                print_message("%s\n", names[i]);
                assert_int_equal(smaps_read(path, &c), 0);
                got = print_smaps(&c);
                check_golden(names[i], got);
                smaps_charge_done(&c);
        }
}

/* What the capture program mapped, counted by hand from its own output (tests/data/procfs/README), so the
 * golden file cannot silently drift to a wrong number. */
static void test_smaps_mapper_known_sizes(void **state) {
        _cleanup_free_ char *path = data_path("smaps-mapper.in");
        struct smaps_charge c;
        (void) state;

        assert_int_equal(smaps_read(path, &c), 0);

        /* 8M private + 1M dontfork + 3M made writable by mprotect + 4K private file mapping, plus the
         * relro/data segments of mapper, libc and ld.so (48K), libc's anonymous areas (72K), the stack
         * (132K). */
        assert_int_equal(c.accountable_bytes, KiB(8192 + 1024 + 3072 + 4 + 48 + 72 + 132));
        assert_int_equal(c.accountable_bytes, KiB(12544));
        assert_int_equal(c.dontcopy_accountable_bytes, KiB(1024));
        assert_int_equal(c.noreserve_bytes, KiB(16384));

        /* Shared anonymous inode 1027 is mapped twice (2M and a 1M alias) and counted once, at 2M. Inode
         * 1028 (MAP_NORESERVE, "nr") is charged per page outside strict mode and whole in it; from smaps alone
         * its pages are estimated as its mapping (1M). SysV ids 1 (4M) and 2 (1M, SHM_NORESERVE, which smaps
         * does not show) are charged whole. SysV segments sort after the other objects of their device. */
        assert_int_equal(c.n_shmem, 4);
        assert_int_equal(c.shmem[0].dev, makedev(0, 1));
        assert_int_equal(c.shmem[0].inode, 1027);
        assert_int_equal(c.shmem[0].kind, SHMEM_SHARED_ANON);
        assert_int_equal(c.shmem[0].accounting, SHMEM_WHOLE);
        assert_int_equal(c.shmem[0].size_bytes, KiB(2048));
        assert_true(c.shmem[0].estimated);
        assert_int_equal(c.shmem[1].inode, 1028);
        assert_int_equal(c.shmem[1].accounting, SHMEM_WHOLE_IN_STRICT);
        assert_int_equal(c.shmem[1].size_bytes, KiB(1024));
        assert_int_equal(c.shmem[2].inode, 1);
        assert_int_equal(c.shmem[2].kind, SHMEM_SYSV);
        assert_int_equal(c.shmem[2].size_bytes, KiB(4096));
        assert_int_equal(c.shmem[3].inode, 2);
        assert_int_equal(c.shmem[3].size_bytes, KiB(1024));
        assert_int_equal(c.shmem_bytes, KiB(2048 + 1024 + 4096 + 1024));
        assert_int_equal(c.shmem_strict_bytes, KiB(8192));

        assert_int_equal(smaps_charge_bytes(&c, COMMIT_MODE_GUESS), KiB(12544 + 8192));
        assert_int_equal(smaps_charge_bytes(&c, COMMIT_MODE_ALWAYS), KiB(12544 + 8192));
        assert_int_equal(smaps_charge_bytes(&c, COMMIT_MODE_NEVER), KiB(12544 + 8192 + 16384));
        smaps_charge_done(&c);
        smaps_charge_done(&c); /* idempotent */
        smaps_charge_done(NULL);
}

static void test_status_golden(void **state) {
        _cleanup_free_ char *p1 = data_path("status-mapper.in"), *p2 = data_path("status-kthread.in");
        _cleanup_free_ char *g1 = NULL, *g2 = NULL;
        struct proc_status s;
        (void) state;

        assert_int_equal(proc_status_read(p1, &s), 0);
        g1 = print_status(&s);
        check_golden("status-mapper", g1);
        assert_string_equal(s.name, "mapper");
        assert_int_equal(s.pid, 4729);
        assert_int_equal(s.ppid, 1);
        assert_true(s.has_mm);
        assert_int_equal(s.vm_size_bytes, KiB(40752));
        assert_int_equal(s.cap_effective, UINT64_C(0x1fffeffffff));

        assert_int_equal(proc_status_read(p2, &s), 0);
        g2 = print_status(&s);
        check_golden("status-kthread", g2);
        assert_string_equal(s.name, "kthreadd");
        assert_int_equal(s.pid, 2);
        assert_int_equal(s.ppid, 0);
        assert_false(s.has_mm);
        assert_int_equal(s.vm_size_bytes, 0);
}

/* ---- smaps: rules, merge, charge ---- */

#define AREA_AT(range, perms, offset, dev, inode, name, size_kb, flags)                                                \
        range " " perms " " offset " " dev " " inode "   " name "\n"                                                   \
              "Size:           " size_kb " kB\n"                                                                       \
              "Rss:                  0 kB\n"                                                                           \
              "VmFlags: " flags "\n"
#define AREA(range, perms, dev, inode, name, size_kb, flags)                                                           \
        AREA_AT(range, perms, "00000000", dev, inode, name, size_kb, flags)

static void test_smaps_rules(void **state) {
        static const struct {
                const char *what;
                const char *buf;
                uint64_t accountable, dontcopy, noreserve, shmem, shmem_strict;
                size_t n_shmem;
        } cases[] = {
                {"empty (kernel thread)", "", 0, 0, 0, 0, 0, 0},
                {"private ac", AREA("1000-2000", "rw-p", "00:00", "0", "", "4", "rd wr mr mw me ac"), 4096, 0, 0, 0, 0,
                 0},
                {"ac + dc", AREA("1000-2000", "rw-p", "00:00", "0", "", "4", "rd wr mr mw me dc ac"), 4096, 4096, 0, 0,
                 0, 0},
                {"private nr", AREA("1000-2000", "rw-p", "00:00", "0", "", "4", "rd wr mr mw me nr"), 0, 0, 4096, 0, 0,
                 0},
                {"private read-only nr", AREA("1000-2000", "r--p", "00:00", "0", "", "4", "rd mr mw me nr"), 0, 0, 0, 0,
                 0, 0},
                {"hugetlb nr",
                 AREA("1000-2000", "rw-p", "00:0f", "7", "/anon_hugepage (deleted)", "2048", "rd wr mr mw me de nr ht"),
                 0, 0, 0, 0, 0, 0},
                {"shared hugetlb",
                 AREA("1000-2000", "rw-s", "00:0f", "7", "/SYSV00000001 (deleted)", "2048", "rd wr sh ht"), 0, 0, 0, 0,
                 0, 0},
                {"shared file nr", AREA("1000-2000", "rw-s", "fe:00", "12", "/srv/data", "4", "rd wr sh mr mw me nr"),
                 0, 0, 0, 0, 0, 0},
                {"shared file", AREA("1000-2000", "rw-s", "fe:00", "12", "/srv/data", "4", "rd wr sh mr mw me ms"), 0,
                 0, 0, 0, 0, 0},
                {"shared anon", AREA("1000-2000", "rw-s", "00:01", "5", "/dev/zero (deleted)", "4", "rd wr sh"), 0, 0,
                 0, 4096, 4096, 1},
                /* Per page outside strict mode (estimated as the mapping), whole in it. */
                {"shared anon nr", AREA("1000-2000", "rw-s", "00:01", "5", "/dev/zero (deleted)", "4", "rd wr sh nr"),
                 0, 0, 0, 4096, 4096, 1},
                /* Cut to its last page by munmap(): the offset shows the object is at least 64M. */
                {"shared anon cut to its last page",
                 AREA_AT("1000-2000", "rw-s", "03fff000", "00:01", "5", "/dev/zero (deleted)", "4", "rd wr sh"), 0, 0,
                 0, KiB(65536), KiB(65536), 1},
                {"cut shared anon nr: pages estimated by the mapping, size by its end",
                 AREA_AT("1000-2000", "rw-s", "03fff000", "00:01", "5", "/dev/zero (deleted)", "4", "rd wr sh nr"), 0,
                 0, 0, 4096, KiB(65536), 1},
                {"sysv", AREA("1000-2000", "rw-s", "00:01", "3", "/SYSV0000abcd (deleted)", "4", "rd wr sh"), 0, 0, 0,
                 4096, 4096, 1},
                {"sysv read-only attach", AREA("1000-2000", "r--s", "00:01", "3", "/SYSV0000abcd", "4", "rd sh"), 0, 0,
                 0, 4096, 4096, 1},
                {"named anon shmem", AREA("1000-2000", "rw-s", "00:01", "9", "[anon_shmem:cache]", "4", "rd wr sh"), 0,
                 0, 0, 4096, 4096, 1},
                {"anon shmem", AREA("1000-2000", "rw-s", "00:01", "9", "[anon_shmem]", "4", "rd wr sh"), 0, 0, 0, 4096,
                 4096, 1},
                {"private mapping of /dev/zero is private",
                 AREA("1000-2000", "rw-p", "00:01", "5", "/dev/zero (deleted)", "4", "rd wr mr mw me ac"), 4096, 0, 0,
                 0, 0, 0},
                {"not shmem: [anon_shmem without bracket",
                 AREA("1000-2000", "rw-s", "00:01", "9", "[anon_shmem", "4", "rd wr sh"), 0, 0, 0, 0, 0, 0},
                /* Per page; from smaps alone its pages are estimated as the mapping. */
                {"memfd, pages", AREA("1000-2000", "rw-s", "00:01", "9", "/memfd:x (deleted)", "4", "rd wr sh"), 0, 0,
                 0, 4096, 4096, 1},
                {"private memfd mapping: the area's own rule",
                 AREA("1000-2000", "r--p", "00:01", "9", "/memfd:x (deleted)", "4", "rd mr mw me"), 0, 0, 0, 0, 0, 0},
                {"same object twice, largest kept",
                 AREA("1000-2000", "rw-s", "00:01", "5", "/dev/zero (deleted)", "4", "rd wr sh")
                         AREA("3000-5000", "rw-s", "00:01", "5", "/dev/zero (deleted)", "8", "rd wr sh")
                                 AREA("6000-7000", "rw-s", "00:01", "5", "/dev/zero (deleted)", "4", "rd wr sh"),
                 0, 0, 0, 8192, 8192, 1},
                {"a SysV id and a memfd inode alike are two objects",
                 AREA("1000-2000", "rw-s", "00:01", "17", "/SYSV00000000 (deleted)", "4", "rd wr sh")
                         AREA("3000-4000", "rw-s", "00:01", "17", "/memfd:y (deleted)", "4", "rd wr sh"),
                 0, 0, 0, 8192, 8192, 2},
                {"Size wins over end-start", AREA("1000-2000", "rw-p", "00:00", "0", "", "8", "rd wr ac"), 8192, 0, 0,
                 0, 0, 0},
                {"unknown fields and flags ignored",
                 "1000-2000 rw-p 00000000 00:00 0\nSize: 4 kB\nKernelPageSize: 4 kB\nTHPeligible:    0\n"
                 "ProtectionKey:         0\nVmFlags: rd wr zz 9x ac\n",
                 4096, 0, 0, 0, 0, 0},
                {"no trailing newline", "1000-2000 rw-p 00000000 00:00 0\nSize: 4 kB\nVmFlags: ac", 4096, 0, 0, 0, 0,
                 0},
                {"empty VmFlags", "1000-2000 rw-p 00000000 00:00 0\nSize: 4 kB\nVmFlags:\n", 0, 0, 0, 0, 0, 0},
                {"blank lines", "\n1000-2000 rw-p 00000000 00:00 0\n\nSize: 4 kB\nVmFlags: ac\n\n", 4096, 0, 0, 0, 0,
                 0},
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct smaps_charge c;

                print_message("%s\n", cases[i].what);
                assert_int_equal(smaps_parse(cases[i].buf, &c), 0);
                assert_int_equal(c.accountable_bytes, cases[i].accountable);
                assert_int_equal(c.dontcopy_accountable_bytes, cases[i].dontcopy);
                assert_int_equal(c.noreserve_bytes, cases[i].noreserve);
                assert_int_equal(c.shmem_bytes, cases[i].shmem);
                assert_int_equal(c.shmem_strict_bytes, cases[i].shmem_strict);
                assert_int_equal(c.n_shmem, cases[i].n_shmem);
                for (size_t j = 0; j < c.n_shmem; j++)
                        assert_true(c.shmem[j].estimated);
                smaps_charge_done(&c);
        }
}

struct origin_visit {
        struct smaps_charge *c;
        const struct smaps_origin *o;
};

static int add_with_origin(const struct smaps_area *a, void *userdata) {
        struct origin_visit *v = userdata;
        return smaps_charge_add_area(v->c, a, v->o);
}

/* With the shm mount's device known, names count only on it, and any other name there is a memfd-like file;
 * a SysV segment carries its IPC namespace. */
static void test_smaps_origin(void **state) {
        static const char buf[] = AREA("1000-2000", "rw-s", "00:01", "5", "/dev/zero (deleted)", "4", "rd wr sh")
                AREA("2000-3000", "rw-s", "00:1b", "6", "/dev/zero (deleted)", "4", "rd wr sh")
                        AREA("3000-4000", "rw-s", "00:01", "7", "/i915 (deleted)", "8", "rd wr sh")
                                AREA("4000-5000", "rw-s", "00:01", "3", "/SYSV00000000 (deleted)", "4", "rd wr sh");
        struct smaps_origin o = {.shm_dev = makedev(0, 1), .ipc_ns = 4026531839};
        struct smaps_charge by_name, by_dev = {0};
        struct origin_visit v = {&by_dev, &o};
        (void) state;

        /* Unknown origin: both "/dev/zero (deleted)" and the SysV name count; "/i915" says nothing. */
        assert_int_equal(smaps_parse(buf, &by_name), 0);
        assert_int_equal(by_name.n_shmem, 3);
        assert_int_equal(by_name.shmem_bytes, KiB(12));
        assert_int_equal(by_name.shmem[2].ipc_ns, 0);
        smaps_charge_done(&by_name);

        assert_int_equal(smaps_scan(buf, add_with_origin, &v), 0);
        assert_int_equal(smaps_charge_finish(&by_dev), 0);
        assert_int_equal(by_dev.n_shmem, 3);
        assert_int_equal(by_dev.shmem[0].inode, 5);
        assert_int_equal(by_dev.shmem[0].kind, SHMEM_SHARED_ANON);
        assert_int_equal(by_dev.shmem[1].inode, 7);
        assert_int_equal(by_dev.shmem[1].kind, SHMEM_FILE);
        assert_int_equal(by_dev.shmem[1].accounting, SHMEM_PAGES);
        assert_int_equal(by_dev.shmem[2].kind, SHMEM_SYSV);
        assert_int_equal(by_dev.shmem[2].ipc_ns, 4026531839);
        assert_int_equal(by_dev.shmem_bytes, KiB(4 + 8 + 4));
        smaps_charge_done(&by_dev);
}

static void test_smaps_malformed(void **state) {
        static const struct {
                const char *what;
                const char *buf;
        } cases[] = {
                {"field before any header", "Size: 4 kB\n"},
                {"no VmFlags", "1000-2000 rw-p 00000000 00:00 0\nSize: 4 kB\n"},
                {"no Size", "1000-2000 rw-p 00000000 00:00 0\nVmFlags: ac\n"},
                {"truncated header", "1000-2000 rw-p\nSize: 4 kB\nVmFlags: ac\n"},
                {"header without range dash", "10002000 rw-p 00000000 00:00 0\nSize: 4 kB\nVmFlags: ac\n"},
                {"end before start", "2000-1000 rw-p 00000000 00:00 0\nSize: 4 kB\nVmFlags: ac\n"},
                {"address overflow", "1000-1ffffffffffffffff rw-p 00000000 00:00 0\nSize: 4 kB\nVmFlags: ac\n"},
                {"bad perms", "1000-2000 rwxq 00000000 00:00 0\nSize: 4 kB\nVmFlags: ac\n"},
                {"short perms", "1000-2000 rw- 00000000 00:00 0\nSize: 4 kB\nVmFlags: ac\n"},
                {"bad dev", "1000-2000 rw-p 00000000 0000 0\nSize: 4 kB\nVmFlags: ac\n"},
                {"major too large", "1000-2000 rw-p 00000000 100000000:00 0\nSize: 4 kB\nVmFlags: ac\n"},
                {"inode not a number", "1000-2000 rw-p 00000000 00:00 x\nSize: 4 kB\nVmFlags: ac\n"},
                {"negative inode", "1000-2000 rw-p 00000000 00:00 -1\nSize: 4 kB\nVmFlags: ac\n"},
                {"Size not a number", "1000-2000 rw-p 00000000 00:00 0\nSize: four kB\nVmFlags: ac\n"},
                {"Size without unit", "1000-2000 rw-p 00000000 00:00 0\nSize: 4\nVmFlags: ac\n"},
                {"Size in MB", "1000-2000 rw-p 00000000 00:00 0\nSize: 4 MB\nVmFlags: ac\n"},
                {"Size trailing junk", "1000-2000 rw-p 00000000 00:00 0\nSize: 4 kB x\nVmFlags: ac\n"},
                {"Size kB overflow", "1000-2000 rw-p 00000000 00:00 0\nSize: 18014398509481984 kB\nVmFlags: ac\n"},
                {"Size overflow", "1000-2000 rw-p 00000000 00:00 0\nSize: 99999999999999999999 kB\nVmFlags: ac\n"},
                {"Size twice", "1000-2000 rw-p 00000000 00:00 0\nSize: 4 kB\nSize: 4 kB\nVmFlags: ac\n"},
                {"VmFlags twice", "1000-2000 rw-p 00000000 00:00 0\nSize: 4 kB\nVmFlags: ac\nVmFlags: ac\n"},
                {"three-letter flag", "1000-2000 rw-p 00000000 00:00 0\nSize: 4 kB\nVmFlags: acc\n"},
                {"flag with punctuation", "1000-2000 rw-p 00000000 00:00 0\nSize: 4 kB\nVmFlags: a!\n"},
                {"Size without colon is no Size", "1000-2000 rw-p 00000000 00:00 0\nSize 4 kB\nVmFlags: ac\n"},
                {"neither header nor field", "1000-2000 rw-p 00000000 00:00 0\nSize: 4 kB\n!x\nVmFlags: ac\n"},
                {"lower case, not hex", "1000-2000 rw-p 00000000 00:00 0\nSize: 4 kB\nrss: 4 kB\nVmFlags: ac\n"},
                {"offset not hex", "1000-2000 rw-p 0000000g 00:00 0\nSize: 4 kB\nVmFlags: ac\n"},
                {"sum overflows", "1000-2000 rw-p 00000000 00:00 0\nSize: 18014398509481983 kB\nVmFlags: ac\n"
                                  "3000-4000 rw-p 00000000 00:00 0\nSize: 18014398509481983 kB\nVmFlags: ac\n"},
                {"second area truncated",
                 "1000-2000 rw-p 00000000 00:00 0\nSize: 4 kB\nVmFlags: ac\n3000-4000 rw-p 00000000 00:00 0\n"},
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct smaps_charge c = {.accountable_bytes = 77};

                print_message("%s\n", cases[i].what);
                assert_int_equal(smaps_parse(cases[i].buf, &c), -EINVAL);
                assert_int_equal(c.accountable_bytes, 77); /* untouched on failure */
        }
        struct smaps_charge c;
        assert_int_equal(smaps_parse(NULL, &c), -EINVAL);
}

/* A measured shared anonymous object of `size` bytes: charged whole in every mode. */
#define OBJ(dev, inode, size)                                                                                          \
        { (dev), (inode), 0, SHMEM_SHARED_ANON, SHMEM_WHOLE, (size), (size), false }

static void set_shmem(struct smaps_charge *c, size_t n, const struct shmem_object *objs) {
        c->shmem = n ? calloc(n, sizeof(*objs)) : NULL;
        if (n)
                assert_non_null(c->shmem);
        for (size_t i = 0; i < n; i++)
                c->shmem[i] = objs[i];
        c->n_shmem = n;
        assert_int_equal(smaps_charge_finish(c), 0);
}

static void test_smaps_merge(void **state) {
        static const struct shmem_object a_objs[] = {OBJ(1, 5, 100), OBJ(1, 9, 300), OBJ(2, 1, 50)};
        static const struct shmem_object b_objs[] = {OBJ(1, 3, 7), OBJ(1, 9, 400), OBJ(3, 0, 1)};
        struct smaps_charge a = {.accountable_bytes = 1000, .dontcopy_accountable_bytes = 10, .noreserve_bytes = 5};
        struct smaps_charge b = {.accountable_bytes = 2000, .dontcopy_accountable_bytes = 20, .noreserve_bytes = 6};
        struct smaps_charge empty = {0};
        (void) state;

        set_shmem(&a, ELEMENTSOF(a_objs), a_objs);
        set_shmem(&b, ELEMENTSOF(b_objs), b_objs);

        assert_int_equal(smaps_charge_merge(&a, &b), 0);
        assert_int_equal(a.accountable_bytes, 3000);
        assert_int_equal(a.dontcopy_accountable_bytes, 30);
        assert_int_equal(a.noreserve_bytes, 11);
        assert_int_equal(a.n_shmem, 5);
        /* Sorted union by name; (1, 9) once, at the larger size. */
        static const struct shmem_object want[] = {OBJ(1, 3, 7), OBJ(1, 5, 100), OBJ(1, 9, 400), OBJ(2, 1, 50),
                                                   OBJ(3, 0, 1)};
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                assert_int_equal(a.shmem[i].dev, want[i].dev);
                assert_int_equal(a.shmem[i].inode, want[i].inode);
                assert_int_equal(a.shmem[i].size_bytes, want[i].size_bytes);
        }
        assert_int_equal(a.shmem_bytes, 7 + 100 + 400 + 50 + 1);
        assert_int_equal(a.shmem_strict_bytes, 558);
        /* b is not changed. */
        assert_int_equal(b.n_shmem, 3);
        assert_int_equal(b.shmem_bytes, 408);

        /* Merging the same set again adds the sums but no shmem. */
        assert_int_equal(smaps_charge_merge(&a, &b), 0);
        assert_int_equal(a.accountable_bytes, 5000);
        assert_int_equal(a.n_shmem, 5);
        assert_int_equal(a.shmem_bytes, 558);

        /* Into an empty accumulator: the way a cgroup's charge is summed. */
        assert_int_equal(smaps_charge_merge(&empty, &a), 0);
        assert_int_equal(empty.n_shmem, 5);
        assert_int_equal(empty.shmem_bytes, 558);
        assert_int_equal(empty.accountable_bytes, 5000);
        smaps_charge_done(&empty);
        assert_int_equal(smaps_charge_merge(&empty, &empty), 0);
        assert_int_equal(empty.n_shmem, 0);
        assert_null(empty.shmem);

        /* A merged charge takes more objects (the daemon adds to what it merged). */
        static const struct shmem_object more = OBJ(4, 4, 4);
        assert_int_equal(smaps_charge_merge(&empty, &a), 0);
        for (int i = 0; i < 40; i++)
                assert_int_equal(smaps_charge_add_object(&empty, &more), 0);
        assert_int_equal(smaps_charge_finish(&empty), 0);
        assert_int_equal(empty.n_shmem, 6);
        assert_int_equal(empty.shmem_bytes, 562);
        smaps_charge_done(&empty);

        /* Overflow leaves a unchanged. */
        struct smaps_charge big = {.accountable_bytes = UINT64_MAX};
        assert_int_equal(smaps_charge_merge(&a, &big), -EOVERFLOW);
        assert_int_equal(a.accountable_bytes, 5000);
        assert_int_equal(a.n_shmem, 5);
        static const struct shmem_object huge_obj[] = {OBJ(9, 9, UINT64_MAX)};
        set_shmem(&big, 1, huge_obj);
        big.accountable_bytes = 0;
        assert_int_equal(smaps_charge_merge(&a, &big), -EOVERFLOW);
        assert_int_equal(a.shmem_bytes, 558);
        assert_int_equal(a.n_shmem, 5);

        assert_int_equal(smaps_charge_merge(NULL, &b), -EINVAL);
        assert_int_equal(smaps_charge_merge(&a, NULL), -EINVAL);
        smaps_charge_done(&big);
        smaps_charge_done(&a);
        smaps_charge_done(&b);
}

/* One object seen twice: measured beats estimated whatever the sizes; two measures or two estimates keep the
 * larger sizes and accounting. And what each accounting charges in each mode. */
static void test_shmem_fold(void **state) {
        const uint64_t dev = makedev(0, 1);
        const struct shmem_object memfd_est = {dev, 9, 0, SHMEM_FILE, SHMEM_PAGES, KiB(1024), KiB(1024), true};
        const struct shmem_object memfd_real = {dev, 9, 0, SHMEM_FILE, SHMEM_PAGES, KiB(1024), KiB(8), false};
        const struct shmem_object anon_nr = {dev,     5,      0,    SHMEM_SHARED_ANON, SHMEM_WHOLE_IN_STRICT,
                                             KiB(64), KiB(4), false};
        const struct shmem_object anon_nr_more = {dev,     5,       0,    SHMEM_SHARED_ANON, SHMEM_WHOLE_IN_STRICT,
                                                  KiB(64), KiB(12), false};
        const struct shmem_object sysv_ns1 = {dev, 9, 1, SHMEM_SYSV, SHMEM_WHOLE, KiB(16), 0, false};
        const struct shmem_object sysv_ns2 = {dev, 9, 2, SHMEM_SYSV, SHMEM_WHOLE, KiB(32), 0, false};
        struct smaps_charge c = {0};
        (void) state;

        assert_int_equal(shmem_object_charge(&memfd_real, COMMIT_MODE_NEVER), KiB(8));
        assert_int_equal(shmem_object_charge(&anon_nr, COMMIT_MODE_GUESS), KiB(4));
        assert_int_equal(shmem_object_charge(&anon_nr, COMMIT_MODE_ALWAYS), KiB(4));
        assert_int_equal(shmem_object_charge(&anon_nr, COMMIT_MODE_NEVER), KiB(64));
        assert_int_equal(shmem_object_charge(&sysv_ns1, COMMIT_MODE_GUESS), KiB(16));
        assert_int_equal(shmem_object_charge(NULL, COMMIT_MODE_GUESS), 0);

        const struct shmem_object *objs[] = {&memfd_est, &memfd_real, &memfd_est, &anon_nr_more,
                                             &anon_nr,   &sysv_ns2,   &sysv_ns1};
        for (size_t i = 0; i < ELEMENTSOF(objs); i++)
                assert_int_equal(smaps_charge_add_object(&c, objs[i]), 0);
        assert_int_equal(smaps_charge_finish(&c), 0);
        /* The memfd (9), the shared anonymous object (5), and two SysV segments with id 9 in two namespaces. */
        assert_int_equal(c.n_shmem, 4);
        assert_int_equal(c.shmem[0].inode, 5);
        assert_int_equal(c.shmem[0].allocated_bytes, KiB(12));
        assert_int_equal(c.shmem[1].inode, 9);
        assert_false(c.shmem[1].estimated);
        assert_int_equal(c.shmem[1].allocated_bytes, KiB(8));
        assert_int_equal(c.shmem[2].ipc_ns, 1);
        assert_int_equal(c.shmem[3].ipc_ns, 2);
        assert_int_equal(c.shmem_bytes, KiB(12 + 8 + 16 + 32));
        assert_int_equal(c.shmem_strict_bytes, KiB(64 + 8 + 16 + 32));
        assert_int_equal(smaps_charge_bytes(&c, COMMIT_MODE_NEVER), KiB(120));
        assert_int_equal(smaps_charge_add_object(NULL, &memfd_est), -EINVAL);
        assert_int_equal(smaps_charge_add_object(&c, NULL), -EINVAL);
        assert_int_equal(smaps_charge_finish(NULL), -EINVAL);
        smaps_charge_done(&c);
}

/* Two processes sharing one SysV segment and one shared anonymous object charge them once. */
static void test_smaps_merge_parsed(void **state) {
        static const char p1[] = AREA("1000-2000", "rw-s", "00:01", "3", "/SYSV00000000 (deleted)", "4096", "rd wr sh")
                AREA("3000-4000", "rw-p", "00:00", "0", "", "100", "rd wr ac");
        static const char p2[] = AREA("1000-2000", "r--s", "00:01", "3", "/SYSV00000000 (deleted)", "4096", "rd sh")
                AREA("5000-6000", "rw-s", "00:01", "1030", "/dev/zero (deleted)", "8", "rd wr sh")
                        AREA("7000-8000", "rw-p", "00:00", "0", "", "100", "rd wr nr");
        struct smaps_charge a, b;
        (void) state;

        assert_int_equal(smaps_parse(p1, &a), 0);
        assert_int_equal(smaps_parse(p2, &b), 0);
        assert_int_equal(smaps_charge_merge(&a, &b), 0);
        assert_int_equal(a.n_shmem, 2);
        assert_int_equal(a.shmem_bytes, KiB(4096 + 8));
        assert_int_equal(smaps_charge_bytes(&a, COMMIT_MODE_GUESS), KiB(100 + 4096 + 8));
        assert_int_equal(smaps_charge_bytes(&a, COMMIT_MODE_NEVER), KiB(100 + 4096 + 8 + 100));
        smaps_charge_done(&a);
        smaps_charge_done(&b);
}

static void test_smaps_charge_bytes(void **state) {
        struct smaps_charge c = {
                .accountable_bytes = 10, .noreserve_bytes = 100, .shmem_bytes = 1000, .shmem_strict_bytes = 1000};
        (void) state;

        assert_int_equal(smaps_charge_bytes(&c, COMMIT_MODE_GUESS), 1010);
        assert_int_equal(smaps_charge_bytes(&c, COMMIT_MODE_ALWAYS), 1010);
        assert_int_equal(smaps_charge_bytes(&c, COMMIT_MODE_NEVER), 1110);
        c.shmem_strict_bytes = 5000; /* a MAP_NORESERVE shared anonymous object: whole only in strict mode */
        assert_int_equal(smaps_charge_bytes(&c, COMMIT_MODE_GUESS), 1010);
        assert_int_equal(smaps_charge_bytes(&c, COMMIT_MODE_NEVER), 5110);
        assert_int_equal(smaps_charge_bytes(NULL, COMMIT_MODE_NEVER), 0);
        /* Saturates rather than wrapping to a small charge. */
        c.accountable_bytes = UINT64_MAX - 5;
        assert_int_equal(smaps_charge_bytes(&c, COMMIT_MODE_NEVER), UINT64_MAX);
}

/* ---- meminfo, status, single numbers: malformed input ---- */

static void test_meminfo_parse(void **state) {
        struct meminfo m;
        (void) state;

        assert_int_equal(meminfo_parse("MemTotal: 4 kB\nCommitLimit:\t\t 2 kB\nUnknownNew: 7 kB\n", &m), 0);
        assert_int_equal(m.mem_total, 4096);
        assert_int_equal(m.commit_limit, 2048);
        assert_int_equal(m.swap_total, 0);

        /* Older kernels without "Hugetlb:": the default pool. */
        assert_int_equal(meminfo_parse("MemTotal: 4 kB\nHugePages_Total: 3\nHugepagesize: 2048 kB\n", &m), 0);
        assert_int_equal(m.hugetlb, 3 * KiB(2048));
        assert_int_equal(
                meminfo_parse("MemTotal: 4 kB\nHugePages_Total: 3\nHugepagesize: 2048 kB\nHugetlb: 1 kB\n", &m), 0);
        assert_int_equal(m.hugetlb, 1024);

        static const struct {
                const char *what;
                const char *buf;
        } bad[] = {
                {"empty", ""},
                {"no MemTotal", "MemFree: 4 kB\n"},
                {"no colon", "MemTotal 4 kB\n"},
                {"not a number", "MemTotal: x kB\n"},
                {"negative", "MemTotal: -4 kB\n"},
                {"missing value", "MemTotal: kB\n"},
                {"missing unit", "MemTotal: 4\n"},
                {"wrong unit", "MemTotal: 4 MB\n"},
                {"trailing junk", "MemTotal: 4 kB 5\n"},
                {"kB overflow", "MemTotal: 18014398509481984 kB\n"},
                {"u64 overflow", "MemTotal: 18446744073709551616 kB\n"},
                {"duplicate", "MemTotal: 4 kB\nMemTotal: 4 kB\n"},
                {"count with unit", "MemTotal: 4 kB\nHugePages_Total: 3 kB\n"},
                {"hugetlb product overflow",
                 "MemTotal: 4 kB\nHugePages_Total: 18446744073709551615\nHugepagesize: 2048 kB\n"},
                {"hex", "MemTotal: 0x10 kB\n"},
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                m.mem_total = 77;
                print_message("%s\n", bad[i].what);
                assert_int_equal(meminfo_parse(bad[i].buf, &m), -EINVAL);
                assert_int_equal(m.mem_total, 77);
        }
        assert_int_equal(meminfo_parse(NULL, &m), -EINVAL);
}

#define STATUS_BASE "Pid:\t7\nPPid:\t1\nUid:\t1000\t0\t0\t0\nCapEff:\t0000000000000000\n"

static void test_status_parse(void **state) {
        struct proc_status s;
        (void) state;

        /* The kernel escapes '\n' and '\\' in the name; other control bytes arrive raw and become '?'. */
        assert_int_equal(proc_status_parse("Name:\ta\\nb\\\\c\td\x1b"
                                           "e:f\n" STATUS_BASE,
                                           &s),
                         0);
        assert_string_equal(s.name, "a\\nb\\\\c?d?e:f");
        assert_int_equal(s.uid_real, 1000);
        assert_int_equal(s.uid_effective, 0);
        assert_false(s.has_mm);

        /* A name longer than the buffer is cut, never overflows. */
        assert_int_equal(proc_status_parse("Name:\t0123456789012345678901234567890123456789012345678901234567890123"
                                           "456789\n" STATUS_BASE,
                                           &s),
                         0);
        assert_int_equal(strlen(s.name), sizeof(s.name) - 1);
        assert_int_equal(proc_status_parse("Name:\t\n" STATUS_BASE, &s), 0);
        assert_string_equal(s.name, "");

        assert_int_equal(proc_status_parse("Name:\tx\n" STATUS_BASE "VmSize:\t  123 kB\n", &s), 0);
        assert_true(s.has_mm);
        assert_int_equal(s.vm_size_bytes, KiB(123));

        static const struct {
                const char *what;
                const char *buf;
        } bad[] = {
                {"empty", ""},
                {"no Name", STATUS_BASE},
                {"no Pid", "Name:\tx\nPPid:\t1\nUid:\t0\t0\t0\t0\nCapEff:\t0\n"},
                {"no PPid", "Name:\tx\nPid:\t1\nUid:\t0\t0\t0\t0\nCapEff:\t0\n"},
                {"no Uid", "Name:\tx\nPid:\t1\nPPid:\t1\nCapEff:\t0\n"},
                {"no CapEff", "Name:\tx\nPid:\t1\nPPid:\t1\nUid:\t0\t0\t0\t0\n"},
                {"Uid one field", "Name:\tx\nPid:\t1\nPPid:\t1\nUid:\t0\nCapEff:\t0\n"},
                {"Uid too large", "Name:\tx\nPid:\t1\nPPid:\t1\nUid:\t4294967296\t0\t0\t0\nCapEff:\t0\n"},
                {"Pid 0", "Name:\tx\nPid:\t0\nPPid:\t1\nUid:\t0\t0\t0\t0\nCapEff:\t0\n"},
                {"Pid too large", "Name:\tx\nPid:\t2147483648\nPPid:\t1\nUid:\t0\t0\t0\t0\nCapEff:\t0\n"},
                {"Pid negative", "Name:\tx\nPid:\t-1\nPPid:\t1\nUid:\t0\t0\t0\t0\nCapEff:\t0\n"},
                {"Pid twice", "Name:\tx\nPid:\t1\nPid:\t1\nPPid:\t1\nUid:\t0\t0\t0\t0\nCapEff:\t0\n"},
                {"CapEff not hex", "Name:\tx\nPid:\t1\nPPid:\t1\nUid:\t0\t0\t0\t0\nCapEff:\tzz\n"},
                {"CapEff overflow", "Name:\tx\nPid:\t1\nPPid:\t1\nUid:\t0\t0\t0\t0\nCapEff:\t10000000000000000\n"},
                {"VmSize no unit", "Name:\tx\n" STATUS_BASE "VmSize:\t123\n"},
                {"VmSize overflow", "Name:\tx\n" STATUS_BASE "VmSize:\t18014398509481984 kB\n"},
                {"VmSize twice", "Name:\tx\n" STATUS_BASE "VmSize:\t1 kB\nVmSize:\t1 kB\n"},
                {"line without colon", "Name:\tx\n" STATUS_BASE "garbage\n"},
                {"Name twice", "Name:\tx\nName:\ty\n" STATUS_BASE},
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                s.pid = 77;
                print_message("%s\n", bad[i].what);
                assert_int_equal(proc_status_parse(bad[i].buf, &s), -EINVAL);
                assert_int_equal(s.pid, 77);
        }
}

static void test_parse_uint64(void **state) {
        static const struct {
                const char *s;
                int ret;
                uint64_t v;
        } cases[] = {
                {"0\n", 0, 0},
                {"50\n", 0, 50},
                {"50", 0, 50},
                {"50 \t\n", 0, 50},
                {"18446744073709551615\n", 0, UINT64_MAX},
                {"18446744073709551616\n", -EINVAL, 0},
                {"", -EINVAL, 0},
                {"\n", -EINVAL, 0},
                {" 50\n", -EINVAL, 0},
                {"-1\n", -EINVAL, 0},
                {"+1\n", -EINVAL, 0},
                {"0x10\n", -EINVAL, 0},
                {"5 0\n", -EINVAL, 0},
                {"50\n51\n", -EINVAL, 0},
                {"max\n", -EINVAL, 0},
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t v = 12345;
                print_message("\"%s\"\n", cases[i].s);
                assert_int_equal(procfs_parse_uint64(cases[i].s, &v), cases[i].ret);
                assert_int_equal(v, cases[i].ret == 0 ? cases[i].v : 12345);
        }
}

/* ---- overcommit_read over a scratch directory ---- */

static void write_file(const char *dir, const char *name, const char *content) {
        _cleanup_free_ char *p = NULL;
        FILE *f;

        assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
        f = fopen(p, "we");
        assert_non_null(f);
        assert_true(fputs(content, f) >= 0);
        assert_int_equal(fclose(f), 0);
}

static void remove_dir(const char *dir) {
        static const char *const names[] = {"overcommit_memory", "overcommit_ratio", "overcommit_kbytes",
                                            "admin_reserve_kbytes", "user_reserve_kbytes"};
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_free_ char *p = NULL;
                assert_true(asprintf(&p, "%s/%s", dir, names[i]) > 0);
                (void) unlink(p);
        }
        (void) rmdir(dir);
}

static void test_overcommit_scratch(void **state) {
        char dir[] = "/tmp/test-procfs-XXXXXX";
        struct overcommit o = {.ratio = 77};
        (void) state;

        assert_non_null(mkdtemp(dir));
        assert_int_equal(overcommit_read(dir, &o), -ENOENT);

        write_file(dir, "overcommit_memory", "2\n");
        write_file(dir, "overcommit_ratio", "99\n");
        write_file(dir, "overcommit_kbytes", "1048576\n");
        write_file(dir, "admin_reserve_kbytes", "8192\n");
        assert_int_equal(overcommit_read(dir, &o), -ENOENT); /* user_reserve_kbytes missing */
        assert_int_equal(o.ratio, 77);
        write_file(dir, "user_reserve_kbytes", "131072\n");
        assert_int_equal(overcommit_read(dir, &o), 0);
        assert_int_equal(o.mode, COMMIT_MODE_NEVER);
        assert_int_equal(o.ratio, 99);
        assert_int_equal(o.kbytes_bytes, UINT64_C(1) << 30);
        assert_int_equal(o.admin_reserve_bytes, KiB(8192));
        assert_int_equal(o.user_reserve_bytes, KiB(131072));

        static const struct {
                const char *file, *bad, *good;
        } bad[] = {
                {"overcommit_memory", "3\n", "2\n"},
                {"overcommit_memory", "two\n", "2\n"},
                {"overcommit_ratio", "4294967296\n", "99\n"},
                {"overcommit_ratio", "", "99\n"},
                {"overcommit_kbytes", "18014398509481984\n", "0\n"},
                {"admin_reserve_kbytes", "-1\n", "8192\n"},
                {"user_reserve_kbytes", "1 2\n", "131072\n"},
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                print_message("%s = \"%s\"\n", bad[i].file, bad[i].bad);
                write_file(dir, bad[i].file, bad[i].bad);
                o.ratio = 77;
                assert_int_equal(overcommit_read(dir, &o), -EINVAL);
                assert_int_equal(o.ratio, 77);
                write_file(dir, bad[i].file, bad[i].good);
        }
        assert_int_equal(overcommit_read(dir, &o), 0);
        remove_dir(dir);
        assert_int_equal(overcommit_read(NULL, &o), -EINVAL);
}

/* ---- fileio ---- */

static void test_fileio(void **state) {
        _cleanup_free_ char *path = data_path("meminfo-host.in"), *empty = data_path("smaps-kthread.in");
        _cleanup_free_ char *dirp = data_path("sysctl-vm-host");
        _cleanup_free_ char *buf = NULL;
        char *p = (char *) 0x1;
        struct stat st;
        size_t len = 1;
        (void) state;

        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(fileio_read_full(path, FILEIO_MAX_BYTES, &buf, &len), 0);
        assert_int_equal(len, (size_t) st.st_size);
        assert_int_equal(strlen(buf), len);
        free(buf);
        buf = NULL;

        /* Exactly max bytes is fine; one byte less is -EFBIG and leaves the out-parameters alone. */
        assert_int_equal(fileio_read_full(path, (size_t) st.st_size, &buf, NULL), 0);
        assert_int_equal(fileio_read_full(path, (size_t) st.st_size - 1, &p, &len), -EFBIG);
        assert_ptr_equal(p, (char *) 0x1);
        assert_int_equal(len, (size_t) st.st_size);
        assert_int_equal(fileio_read_full(path, 0, &p, NULL), -EFBIG);

        /* An empty file (the smaps of a kernel thread) is an empty string, not an error. */
        assert_int_equal(fileio_read_full(empty, 0, &p, &len), 0);
        assert_int_equal(len, 0);
        assert_string_equal(p, "");
        free(p);

        /* A real procfs file, whose st_size is 0: read to EOF. */
        assert_int_equal(fileio_read_full("/proc/self/status", FILEIO_MAX_BYTES, &p, &len), 0);
        assert_true(len > 0);
        assert_non_null(strstr(p, "Pid:"));
        free(p);

        assert_int_equal(fileio_read_full("/nonexistent/commitd-test", 100, &p, NULL), -ENOENT);
        assert_int_equal(fileio_read_full(dirp, 100, &p, NULL), -EISDIR);
        assert_int_equal(fileio_read_full(NULL, 100, &p, NULL), -EINVAL);
        assert_int_equal(fileio_read_full(path, 100, NULL, NULL), -EINVAL);

        /* Readers pass the errno through: a vanished process is -ENOENT. */
        struct smaps_charge c;
        assert_int_equal(smaps_read("/proc/0/smaps", &c), -ENOENT);
}

/* The live kernel agrees with the parsers (no root needed: our own process). */
static void test_live_self(void **state) {
        struct proc_status s;
        struct smaps_charge c;
        struct meminfo m;
        (void) state;

        assert_int_equal(proc_status_read("/proc/self/status", &s), 0);
        assert_int_equal(s.pid, getpid());
        assert_int_equal(s.ppid, getppid());
        assert_true(s.has_mm);
        assert_true(s.vm_size_bytes > 0);
        assert_int_equal(smaps_read("/proc/self/smaps", &c), 0);
        assert_true(c.accountable_bytes > 0); /* at least the stack and the data segment */
        smaps_charge_done(&c);
        assert_int_equal(meminfo_read("/proc/meminfo", &m), 0);
        assert_true(m.mem_total > 0);
}

/* ---- smaps streamed ---- */

/* The parser fed `chunk` bytes at a time: what smaps_read() does with FILEIO_CHUNK_BYTES. */
static int parse_chunked(const char *buf, size_t chunk, struct smaps_charge *ret) {
        struct smaps_charge_parser p;
        size_t len = strlen(buf);

        smaps_charge_parser_init(&p);
        for (size_t off = 0; off < len; off += chunk)
                if (smaps_charge_parser_feed(&p, buf + off, MIN(chunk, len - off)) != 0)
                        break;
        return smaps_charge_parser_finish(&p, ret);
}

/* Writes text to a new temporary file; returns its path (caller unlinks and frees). */
static char *write_temp(const char *text) {
        char *path = strdup("/tmp/test-procfs-smaps-XXXXXX");
        int fd;

        assert_non_null(path);
        fd = mkstemp(path);
        assert_true(fd >= 0);
        for (size_t off = 0, len = strlen(text); off < len;) {
                ssize_t n = write(fd, text + off, len - off);
                assert_true(n > 0);
                off += (size_t) n;
        }
        assert_int_equal(close(fd), 0);
        return path;
}

/* Cut anywhere, the text gives the charge of the whole buffer; a file gives it too. */
static void check_stream_same(const char *buf) {
        static const size_t chunks[] = {
                1, 2, 3, 5, 7, 13, 64, SMAPS_LINE_MAX - 1, SMAPS_LINE_MAX, SMAPS_LINE_MAX + 1, 4096, 1 << 20};
        _cleanup_free_ char *want = NULL, *path = NULL;
        struct smaps_charge whole;
        int r = smaps_parse(buf, &whole);

        if (r == 0)
                want = print_smaps(&whole);
        for (size_t i = 0; i < ELEMENTSOF(chunks); i++) {
                struct smaps_charge c;
                assert_int_equal(parse_chunked(buf, chunks[i], &c), r);
                if (r == 0) {
                        _cleanup_free_ char *got = print_smaps(&c);
                        assert_string_equal(got, want);
                        smaps_charge_done(&c);
                }
        }
        path = write_temp(buf);
        {
                struct smaps_charge c;
                assert_int_equal(smaps_read(path, &c), r);
                if (r == 0) {
                        _cleanup_free_ char *got = print_smaps(&c);
                        assert_string_equal(got, want);
                        smaps_charge_done(&c);
                }
        }
        assert_int_equal(unlink(path), 0);
        smaps_charge_done(&whole);
}

static void test_smaps_stream(void **state) {
        _cleanup_free_ char *mapper_path = data_path("smaps-mapper.in"), *mapper = NULL;
        (void) state;

        assert_int_equal(fileio_read_full(mapper_path, FILEIO_MAX_BYTES, &mapper, NULL), 0);
        check_stream_same(mapper);
        check_stream_same("");
        check_stream_same("\n\n");
        check_stream_same("1000-2000 rw-p 00000000 00:00 0\nSize: 4 kB\nVmFlags: ac");
        check_stream_same("1000-2000 rw-p 00000000 00:00 0\nSize: 4 kB\n");              /* no VmFlags: -EINVAL */
        check_stream_same("Size: 4 kB\n1000-2000 rw-p 00000000 00:00 0\nVmFlags: ac\n"); /* -EINVAL */

        /* A failure sticks: later feeds and the finish return it, and the finish frees what was read. */
        struct smaps_charge_parser p;
        struct smaps_charge c = {.accountable_bytes = 77};
        smaps_charge_parser_init(&p);
        assert_int_equal(smaps_charge_parser_feed(&p, "1000-2000 rw-p 00000000 00:00 0\nSize: 4 kB\nVmFlags: ac\n", 51),
                         0);
        assert_int_equal(smaps_charge_parser_feed(&p, "garbage\n", 8), -EINVAL);
        assert_int_equal(smaps_charge_parser_feed(&p, "1000-2000 rw-p 00000000 00:00 0\n", 32), -EINVAL);
        assert_int_equal(smaps_charge_parser_feed(&p, NULL, 0), -EINVAL);
        assert_int_equal(smaps_charge_parser_finish(&p, &c), -EINVAL);
        assert_int_equal(c.accountable_bytes, 77);
        smaps_charge_parser_init(&p);
        assert_int_equal(smaps_charge_parser_finish(&p, NULL), -EINVAL);
        assert_int_equal(smaps_scan(NULL, add_with_origin, NULL), -EINVAL);
        assert_int_equal(smaps_scan_file(NULL, add_with_origin, NULL), -EINVAL);
        assert_int_equal(smaps_scan_file("/nonexistent/smaps", add_with_origin, NULL), -ENOENT);
        assert_int_equal(smaps_read("/nonexistent/smaps", &c), -ENOENT);
}

/* A header line longer than SMAPS_LINE_MAX (a path a tenant chose) costs nothing more and parses: only its
 * start is looked at, so names are recognized by their prefix, and an exact name that went on is not it. */
static void test_smaps_long_lines(void **state) {
        static const char *const names[] = {"/SYSV00000000", "/dev/zero (deleted)", "/memfd:x", "/srv/data"};
        static const size_t kinds[] = {1, 0, 1, 0}; /* shmem objects each gives */
        const size_t long_len = 200000;
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_free_ char *buf = NULL;
                struct smaps_charge c;
                char *p;

                buf = malloc(long_len + 512);
                assert_non_null(buf);
                p = buf + sprintf(buf, "1000-2000 rw-s 00000000 00:01 7   %s", names[i]);
                memset(p, 'x', long_len);
                p += long_len;
                strcpy(p,
                       "\nSize: 4 kB\nVmFlags: rd wr sh\n3000-4000 rw-p 00000000 00:00 0\nSize: 8 kB\nVmFlags: ac\n");
                print_message("%s + %zu bytes\n", names[i], long_len);
                assert_int_equal(smaps_parse(buf, &c), 0);
                assert_int_equal(c.accountable_bytes, KiB(8));
                assert_int_equal(c.n_shmem, kinds[i]);
                smaps_charge_done(&c);
                check_stream_same(buf);
        }
}

/* A file far larger than the read buffer, lines cut at every chunk boundary: what a tenant with many long-path
 * mappings makes. (The 64 MiB cap of a whole-file read is gone; tests/bench/bench-measure goes past it.) */
static void test_smaps_many_areas(void **state) {
        const size_t n = 3000;
        _cleanup_free_ char *buf = NULL;
        struct smaps_charge c;
        size_t len = 0, cap = n * 700;
        (void) state;

        buf = malloc(cap);
        assert_non_null(buf);
        for (size_t i = 0; i < n; i++) {
                len += (size_t) snprintf(buf + len, cap - len,
                                         "%08zx-%08zx r--s %08zx fe:01 1234   /srv/%0300zu\n"
                                         "Size:                  4 kB\nKernelPageSize:        4 kB\nRss:       0 kB\n"
                                         "Pss:       0 kB\nSwap:      0 kB\nLocked:    0 kB\nVmFlags: rd sh mr mw me\n",
                                         0x10000 + i * 0x2000, 0x11000 + i * 0x2000, i, i);
                assert_true(len < cap);
        }
        len += (size_t) snprintf(buf + len, cap - len,
                                 "ffff0000-ffff1000 rw-p 00000000 00:00 0\nSize: 4 kB\nVmFlags: ac\n");
        assert_true(len > 2 * FILEIO_CHUNK_BYTES);
        assert_int_equal(smaps_parse(buf, &c), 0);
        assert_int_equal(c.accountable_bytes, KiB(4));
        smaps_charge_done(&c);
        check_stream_same(buf);
}

/* mprotect_fixup()'s rule: within the range, private areas not yet accountable are charged, clipped to the
 * range; an "ac" area (written, made read-only) is not charged again; shared and hugetlb areas nothing; a
 * read-only MAP_NORESERVE area only by strict mode, a writable one not at all. */
static void test_mprotect_charge(void **state) {
        static const char smaps[] = "10000-20000 r--p 00000000 00:00 0 \n"
                                    "Size:                 64 kB\n"
                                    "VmFlags: rd mr mw me \n"
                                    "20000-30000 r--p 00000000 00:00 0 \n"
                                    "Size:                 64 kB\n"
                                    "VmFlags: rd mr mw me ac \n"
                                    "30000-40000 r--s 00000000 00:01 7                          /dev/zero (deleted)\n"
                                    "Size:                 64 kB\n"
                                    "VmFlags: rd sh mr mw me ms \n"
                                    "40000-50000 r--p 00000000 00:00 0 \n"
                                    "Size:                 64 kB\n"
                                    "VmFlags: rd mr mw me nr \n"
                                    "50000-60000 rw-p 00000000 00:00 0 \n"
                                    "Size:                 64 kB\n"
                                    "VmFlags: rd wr mr mw me nr \n"
                                    "60000-70000 r--p 00000000 00:00 0 \n"
                                    "Size:                 64 kB\n"
                                    "VmFlags: rd mr mw me ht \n";
        uint64_t plain = 1, noreserve = 1;
        (void) state;

        assert_int_equal(smaps_mprotect_charge(smaps, 0x10000, 0x60000, &plain, &noreserve), 0);
        assert_int_equal(plain, KiB(64));     /* only the first area: the "ac" one was charged before */
        assert_int_equal(noreserve, KiB(64)); /* the read-only nr area; the writable one is counted already */
        assert_int_equal(smaps_mprotect_charge(smaps, 0x18000, 0x10000, &plain, &noreserve), 0);
        assert_int_equal(plain, KiB(32)); /* clipped to the range */
        assert_int_equal(noreserve, 0);
        assert_int_equal(smaps_mprotect_charge(smaps, 0x80000, 0x1000, &plain, &noreserve), 0);
        assert_int_equal(plain, 0);
        assert_int_equal(smaps_mprotect_charge(smaps, UINT64_MAX - 10, 0x1000, &plain, &noreserve), -EINVAL);
        assert_int_equal(smaps_mprotect_charge("garbage\n", 0, 0x1000, &plain, &noreserve), -EINVAL);
        assert_int_equal(smaps_mprotect_charge(NULL, 0, 0x1000, &plain, &noreserve), -EINVAL);

        /* The same from a file, streamed; it stops past the range, so what follows is never read. */
        _cleanup_free_ char *path = write_temp(smaps), *with_tail = NULL;
        assert_int_equal(smaps_mprotect_charge_read(path, 0x10000, 0x60000, &plain, &noreserve), 0);
        assert_int_equal(plain, KiB(64));
        assert_int_equal(noreserve, KiB(64));
        assert_int_equal(smaps_mprotect_charge_read(path, 0x18000, 0x10000, &plain, &noreserve), 0);
        assert_int_equal(plain, KiB(32));
        assert_int_equal(unlink(path), 0);
        assert_int_equal(smaps_mprotect_charge_read("/nonexistent/smaps", 0, 1, &plain, &noreserve), -ENOENT);
        assert_int_equal(smaps_mprotect_charge_read(NULL, 0, 1, &plain, &noreserve), -EINVAL);
        assert_true(asprintf(&with_tail, "%s%s", smaps, "garbage\n") > 0);
        assert_int_equal(smaps_mprotect_charge(with_tail, 0x10000, 0x1000, &plain, &noreserve), 0);
        assert_int_equal(plain, KiB(4));
}

/* The area at an address, for mremap(): its flags, perms and size; -EFAULT in a gap or past the last area. */
static void test_area_at(void **state) {
        static const char smaps[] = AREA("10000-20000", "r--p", "00:00", "0", "", "64", "rd mr mw me")
                AREA_AT("30000-40000", "rw-s", "00001000", "00:01", "7", "/dev/zero (deleted)", "64", "rd wr sh nr")
                        AREA("50000-60000", "rw-p", "00:00", "0", "", "64", "rd wr mr mw me ac dc");
        _cleanup_free_ char *path = write_temp(smaps);
        struct smaps_area a = {.size = 77};
        (void) state;

        assert_int_equal(smaps_area_at(smaps, 0x10000, &a), 0);
        assert_int_equal(a.start, 0x10000);
        assert_int_equal(a.end, 0x20000);
        assert_memory_equal(a.perms, "r--p", 4);
        assert_false(a.ac);
        assert_int_equal(smaps_area_at(smaps, 0x3ffff, &a), 0);
        assert_int_equal(a.start, 0x30000);
        assert_int_equal(a.offset, 0x1000);
        assert_int_equal(a.dev, makedev(0, 1));
        assert_int_equal(a.inode, 7);
        assert_int_equal(a.name, SMAPS_NAME_SHARED_ANON);
        assert_true(a.nr);
        assert_false(a.ac);
        assert_int_equal(smaps_area_at_read(path, 0x5abcd, &a), 0);
        assert_int_equal(a.size, KiB(64));
        assert_true(a.ac && a.dc && !a.nr && !a.ht);
        assert_memory_equal(a.perms, "rw-p", 4);

        a.size = 77;
        assert_int_equal(smaps_area_at(smaps, 0x20000, &a), -EFAULT); /* end is exclusive: a gap */
        assert_int_equal(smaps_area_at(smaps, 0x0, &a), -EFAULT);
        assert_int_equal(smaps_area_at_read(path, 0x60000, &a), -EFAULT);
        assert_int_equal(smaps_area_at("", 0x1000, &a), -EFAULT);
        assert_int_equal(a.size, 77); /* untouched */
        assert_int_equal(smaps_area_at("garbage\n", 0x1000, &a), -EINVAL);
        assert_int_equal(smaps_area_at(NULL, 0x1000, &a), -EINVAL);
        assert_int_equal(smaps_area_at(smaps, 0x1000, NULL), -EINVAL);
        assert_int_equal(smaps_area_at_read("/nonexistent/smaps", 0x1000, &a), -ENOENT);
        assert_int_equal(unlink(path), 0);
}

/* ---- /proc/sysvipc/shm ---- */

static char *print_sysv(const struct sysv_segment *segs, size_t n) {
        struct text t;

        text_begin(&t);
        fprintf(t.f, "n %zu\n", n);
        for (size_t i = 0; i < n; i++) {
                const struct sysv_segment *s = &segs[i];
                fprintf(t.f,
                        "key %d shmid %d perms %o size_bytes %" PRIu64 " cpid %d lpid %d nattch %" PRIu64
                        " uid %u gid %u cuid %u cgid %u atime %" PRIu64 " dtime %" PRIu64 " ctime %" PRIu64
                        " rss_bytes %" PRIu64 " swap_bytes %" PRIu64 "\n",
                        s->key, s->shmid, s->perms, s->size_bytes, (int) s->cpid, (int) s->lpid, s->nattch,
                        (unsigned) s->uid, (unsigned) s->gid, (unsigned) s->cuid, (unsigned) s->cgid, s->atime,
                        s->dtime, s->ctime, s->rss_bytes, s->swap_bytes);
        }
        return text_finish(&t);
}

static void test_sysv_golden(void **state) {
        _cleanup_free_ char *path = data_path("sysvipc-shm.in"), *got = NULL;
        _cleanup_free_ struct sysv_segment *segs = NULL;
        size_t n;
        (void) state;

        assert_int_equal(sysv_shm_read(path, &segs, &n), 0);
        got = print_sysv(segs, n);
        check_golden("sysvipc-shm", got);

        /* What the capture program made (README): removed while attached, private, attached, negative key. */
        assert_int_equal(n, 4);
        assert_int_equal(segs[0].shmid, 32768);
        assert_int_equal(segs[0].perms, 01644); /* SHM_DEST */
        assert_int_equal(segs[0].size_bytes, 100);
        assert_int_equal(segs[0].nattch, 1);
        assert_int_equal(segs[0].rss_bytes, 4096);
        assert_int_equal(segs[1].key, 0);
        assert_int_equal(segs[1].size_bytes, 1u << 20);
        assert_int_equal(segs[1].lpid, 0);
        assert_int_equal(segs[2].key, INT32_MAX);
        assert_int_equal(segs[3].key, (int) 0xdeadbeef);
        assert_int_equal(segs[3].perms, 02600); /* SHM_LOCKED */
        assert_int_equal(segs[3].size_bytes, 65536);
}

static void test_sysv_parse(void **state) {
        static const char header[] = "key shmid perms size cpid lpid nattch uid gid cuid cgid atime dtime ctime";
        _cleanup_free_ struct sysv_segment *segs = NULL;
        size_t n = 77;
        (void) state;

        /* Only a header: no segment. Columns in another order, without rss and swap, with one unknown. */
        assert_int_equal(sysv_shm_parse("       key      shmid perms size cpid lpid nattch uid gid cuid cgid atime "
                                        "dtime ctime rss swap\n",
                                        &segs, &n),
                         0);
        assert_int_equal(n, 0);
        free(segs);
        segs = NULL;
        assert_int_equal(sysv_shm_parse("shmid key new perms size cpid lpid nattch uid gid cuid cgid atime dtime "
                                        "ctime\n 5 -2147483648 x 600 8192 1 2 3 4 5 6 7 8 9 10\n\n",
                                        &segs, &n),
                         0);
        assert_int_equal(n, 1);
        assert_int_equal(segs[0].shmid, 5);
        assert_int_equal(segs[0].key, INT32_MIN);
        assert_int_equal(segs[0].size_bytes, 8192);
        assert_int_equal(segs[0].ctime, 10);
        assert_int_equal(segs[0].rss_bytes, 0);

        static const char *const bad[] = {
                "",
                "\n\n",
                "key shmid perms size cpid lpid nattch uid gid cuid cgid atime dtime\n", /* no ctime */
                "key key shmid perms size cpid lpid nattch uid gid cuid cgid atime dtime ctime\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                print_message("bad header %zu\n", i);
                assert_int_equal(sysv_shm_parse(bad[i], &segs, &n), -EINVAL);
        }
        static const char *const bad_rows[] = {
                "1 2 600 4096 1 1 0 0 0 0 0 0 0",            /* a column short */
                "1 2 600 4096 1 1 0 0 0 0 0 0 0 0 9",        /* one too many */
                "2147483648 2 600 4096 1 1 0 0 0 0 0 0 0 0", /* key past int */
                "-2147483649 2 600 4096 1 1 0 0 0 0 0 0 0 0",
                "1 -2 600 4096 1 1 0 0 0 0 0 0 0 0",         /* negative id */
                "1 2 800 4096 1 1 0 0 0 0 0 0 0 0",          /* not octal */
                "1 2 600 4096 2147483648 1 0 0 0 0 0 0 0 0", /* pid past int */
                "1 2 600 4096 1 1 0 4294967296 0 0 0 0 0 0", /* uid past 32 bits */
                "1 2 600 18446744073709551616 1 1 0 0 0 0 0 0 0 0",
                "1 2 600 4k 1 1 0 0 0 0 0 0 0 0",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad_rows); i++) {
                _cleanup_free_ char *buf = NULL;
                assert_true(asprintf(&buf, "%s\n%s\n", header, bad_rows[i]) > 0);
                print_message("%s\n", bad_rows[i]);
                n = 77;
                assert_int_equal(sysv_shm_parse(buf, &segs, &n), -EINVAL);
                assert_int_equal(n, 77);
        }
        assert_int_equal(sysv_shm_parse(NULL, &segs, &n), -EINVAL);
        assert_int_equal(sysv_shm_read("/nonexistent/shm", &segs, &n), -ENOENT);
        /* The live file parses (segments of this IPC namespace, perhaps none). */
        free(segs);
        segs = NULL;
        assert_int_equal(sysv_shm_read("/proc/sysvipc/shm", &segs, &n), 0);
}

/* /proc/PID/stat: fields counted after the last ')', whatever the comm holds; 47 fields needed. */
static void test_proc_stat(void **state) {
        /* Captured on this machine (cat's own line), with its comm replaced by one holding ") (" and spaces. */
        static const char line[] =
                "4242 (a) (b c) R 4200 4242 1186 34816 4242 4194304 107 0 0 0 0 0 0 0 20 0 1 0 3456789 5652480 "
                "248 18446744073709551615 94551163080704 94551163098705 140728993349936 0 0 0 0 0 0 0 0 0 17 1 0 0 0 "
                "0 0 94551163111664 94551163113024 94551173898240 140728993354011 140728993354031 140728993354031 "
                "140728993357805 0\n";
        struct proc_stat st = {1, 1};
        (void) state;

        assert_int_equal(proc_stat_parse(line, &st), 0);
        assert_int_equal(st.start_time, 3456789);
        assert_int_equal(st.start_brk, UINT64_C(94551173898240));
        assert_int_equal(proc_stat_parse("4242 (x) R 1 2 3\n", &st), -EINVAL);    /* too few fields */
        assert_int_equal(proc_stat_parse("4242 no parenthesis\n", &st), -EINVAL); /* no comm */
        assert_int_equal(proc_stat_parse("", &st), -EINVAL);
        assert_int_equal(proc_stat_parse(NULL, &st), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_meminfo_golden),
                cmocka_unit_test(test_meminfo_handmade_golden),
                cmocka_unit_test(test_overcommit_golden),
                cmocka_unit_test(test_smaps_golden),
                cmocka_unit_test(test_smaps_mapper_known_sizes),
                cmocka_unit_test(test_status_golden),
                cmocka_unit_test(test_smaps_rules),
                cmocka_unit_test(test_smaps_malformed),
                cmocka_unit_test(test_smaps_origin),
                cmocka_unit_test(test_smaps_merge),
                cmocka_unit_test(test_shmem_fold),
                cmocka_unit_test(test_smaps_merge_parsed),
                cmocka_unit_test(test_smaps_charge_bytes),
                cmocka_unit_test(test_meminfo_parse),
                cmocka_unit_test(test_status_parse),
                cmocka_unit_test(test_parse_uint64),
                cmocka_unit_test(test_overcommit_scratch),
                cmocka_unit_test(test_fileio),
                cmocka_unit_test(test_live_self),
                cmocka_unit_test(test_mprotect_charge),
                cmocka_unit_test(test_area_at),
                cmocka_unit_test(test_smaps_stream),
                cmocka_unit_test(test_smaps_long_lines),
                cmocka_unit_test(test_smaps_many_areas),
                cmocka_unit_test(test_sysv_golden),
                cmocka_unit_test(test_sysv_parse),
                cmocka_unit_test(test_proc_stat),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
