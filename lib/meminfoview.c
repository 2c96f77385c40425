/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "cgroupfs.h"
#include "errmsg.h"
#include "macro.h"
#include "meminfoview.h"
#include "procfs.h"

int meminfo_view_pick(const struct meminfo_level *levels, size_t n, const char *cgroup) {
        int best = -ENOENT;
        uint64_t best_room = 0;
        size_t best_depth = 0;

        for (size_t i = 0; i < n; i++) {
                const struct meminfo_level *l = &levels[i];
                uint64_t room;
                size_t depth;

                if (!l->has_policy || !l->cgroup || cgroupfs_path_is_below(cgroup, l->cgroup) <= 0)
                        continue;
                room = l->committed_bytes >= l->commit_limit_bytes ? 0 : l->commit_limit_bytes - l->committed_bytes;
                depth = strlen(l->cgroup);
                if (best < 0 || room < best_room || (room == best_room && depth > best_depth)) {
                        best = (int) i;
                        best_room = room;
                        best_depth = depth;
                }
        }
        return best;
}

static uint64_t sub0(uint64_t a, uint64_t b) {
        return a > b ? a - b : 0;
}

int meminfo_view_render(const char *host, const struct meminfo_view *v, char **ret) {
        struct meminfo m;
        uint64_t total, free_, available, swap_total = 0, swap_free = 0;
        bool mem, swap;
        _cleanup_free_ char *out = NULL;
        size_t len = 0;
        FILE *f;
        int r;

        r = meminfo_parse(host, &m);
        if (r < 0)
                return r;
        mem = v->mem_limit_bytes < m.mem_total;
        total = mem ? v->mem_limit_bytes : m.mem_total;
        free_ = sub0(total, v->mem_usage_bytes);
        available = MIN(total, saturating_add(free_, v->mem_file_bytes));
        swap = v->swap_limit_bytes < m.swap_total;
        if (swap) {
                swap_total = v->swap_limit_bytes;
                swap_free = sub0(swap_total, v->swap_usage_bytes);
        }

        f = open_memstream(&out, &len);
        if (!f)
                return -ENOMEM;
        for (const char *line = host; *line;) {
                const char *nl = strchr(line, '\n'), *colon = strchr(line, ':');
                size_t n = nl ? (size_t) (nl - line) : strlen(line);
                uint64_t value = 0;
                bool replace = true;
                int key_len;

                if (!colon || colon > line + n) {
                        fclose(f);
                        return -EINVAL;
                }
                key_len = (int) (colon - line);
#define KEY(k) (key_len == (int) strlen(k) && strncmp(line, k, (size_t) key_len) == 0)
                if (v->has_commit && KEY("CommitLimit"))
                        value = v->commit_limit_bytes;
                else if (v->has_commit && KEY("Committed_AS"))
                        value = v->committed_bytes;
                else if (mem && KEY("MemTotal"))
                        value = total;
                else if (mem && KEY("MemFree"))
                        value = free_;
                else if (mem && KEY("MemAvailable"))
                        value = available;
                else if (swap && KEY("SwapTotal"))
                        value = swap_total;
                else if (swap && KEY("SwapFree"))
                        value = swap_free;
                else
                        replace = false;
#undef KEY
                if (replace)
                        fprintf(f, "%-16.*s%8" PRIu64 " kB\n", key_len + 1, line, value >> 10);
                else
                        fprintf(f, "%.*s\n", (int) n, line);
                line += n + (nl ? 1 : 0);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(out);
        return 0;
}

bool meminfo_view_is(const char *fstype, const char *source) {
        return fstype && source && streq(fstype, MEMINFO_VIEW_FSTYPE) && streq(source, MEMINFO_VIEW_FSNAME);
}

int meminfo_view_check(const char *path, char **ret_error) {
        struct statfs sf;
        struct stat st;

        if (statfs(path, &sf) < 0 || stat(path, &st) < 0)
                return errmsg_set(ret_error, -errno, "%s: %s", path, strerror(errno));
        if (sf.f_type != FUSE_SUPER_MAGIC || !S_ISREG(st.st_mode))
                return errmsg_set(ret_error, -ENOENT, "%s is not commitd-meminfo's file", path);
        return 0;
}
