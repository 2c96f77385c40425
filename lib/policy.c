/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroupfs.h"
#include "fileio.h"
#include "macro.h"
#include "knobs.h"
#include "policy.h"
#include "units.h"

/* A policy file is operator input read by a privileged daemon: everything is bounded (file size, name
 * length, ratio), every key is known, and every error names the file, line and column to fix. */

#define SHOW_VALUE_MAX 60 /* bytes of a user's value quoted back in a message */

enum policy_key {
        KEY_NAME,
        KEY_DESCRIPTION,
        KEY_CGROUP,
        KEY_MODE,
        KEY_FORMULA,
        KEY_RATIO,
        KEY_LIMIT,
        KEY_RAM,
        KEY_SWAP,
        KEY_HUGETLB,
        KEY_ADMIN_RESERVE,
        KEY_USER_RESERVE,
        KEY_ENFORCE,
        KEY_MEMINFO,
        _KEY_MAX,
};

static const char *const key_names[_KEY_MAX] = {
        [KEY_NAME] = "name",
        [KEY_DESCRIPTION] = "description",
        [KEY_CGROUP] = "cgroup",
        [KEY_MODE] = "mode",
        [KEY_FORMULA] = "formula",
        [KEY_RATIO] = "ratio",
        [KEY_LIMIT] = "limit",
        [KEY_RAM] = "ram",
        [KEY_SWAP] = "swap",
        [KEY_HUGETLB] = "hugetlb",
        [KEY_ADMIN_RESERVE] = "admin_reserve",
        [KEY_USER_RESERVE] = "user_reserve",
        [KEY_ENFORCE] = "enforce",
        [KEY_MEMINFO] = "meminfo",
};

#define KNOWN_KEYS                                                                                                     \
        "name, description, cgroup, mode, formula, ratio, limit, ram, swap, hugetlb, admin_reserve, user_reserve, "    \
        "enforce, meminfo"

/* Edit distance, ASCII case folded, capped: enough to catch "ration" or "Cgroup". */
static size_t edit_distance(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b), row[32];

        if (la >= ELEMENTSOF(row) || lb >= ELEMENTSOF(row))
                return SIZE_MAX;
        for (size_t j = 0; j <= lb; j++)
                row[j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t diag = row[0];

                row[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t up = row[j];
                        bool same = (a[i - 1] | 0x20) == (b[j - 1] | 0x20);

                        row[j] = MIN(MIN(row[j - 1] + 1, up + 1), diag + !same);
                        diag = up;
                }
        }
        return row[lb];
}

static const char *key_suggest(const char *s) {
        const char *best = NULL;
        size_t best_d = 3; /* at most two edits away */

        for (size_t i = 0; i < _KEY_MAX; i++) {
                size_t d = edit_distance(s, key_names[i]);
                if (d < best_d && d < strlen(s)) {
                        best_d = d;
                        best = key_names[i];
                }
        }
        return best;
}

static int key_from_string(const char *s) {
        for (size_t i = 0; i < _KEY_MAX; i++)
                if (streq(s, key_names[i]))
                        return (int) i;
        return -EINVAL;
}

/* Positions are 1-based lines and columns counted in characters, as jansson counts them (load.c
 * stream_get(): only '\n' starts a line, a UTF-8 sequence is one column). */
struct text_pos {
        unsigned line, column;
};

struct scanned_key {
        char *key; /* decoded */
        struct text_pos key_pos, value_pos;
};

/* The top-level keys of the text in order, with where each key and its value start. jansson does not keep
 * positions of a parsed object, so this walks the raw text once more. It stops at the first thing that is
 * not well-formed JSON (only possible after jansson refused the text) and keeps what it saw before. */
struct scan {
        struct text_pos start; /* first non-blank character: the top-level value */
        struct scanned_key *keys;
        size_t n_keys;
};

static void scan_done(struct scan *s) {
        for (size_t i = 0; i < s->n_keys; i++)
                free(s->keys[i].key);
        free(s->keys);
        *s = (struct scan){};
}

struct cursor {
        const char *p, *end;
        struct text_pos pos;
};

static void cursor_advance(struct cursor *c) {
        unsigned char ch = (unsigned char) *c->p++;

        if (ch == '\n') {
                c->pos.line++;
                c->pos.column = 1;
        } else if ((ch & 0xc0) != 0x80) /* counts the lead byte of a UTF-8 sequence only */
                c->pos.column++;
}

static bool cursor_at(const struct cursor *c, char ch) {
        return c->p < c->end && *c->p == ch;
}

static bool is_json_blank(char ch) {
        return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static void cursor_skip_blanks(struct cursor *c) {
        while (c->p < c->end && is_json_blank(*c->p))
                cursor_advance(c);
}

static int cursor_skip_string(struct cursor *c) {
        if (!cursor_at(c, '"'))
                return -EINVAL;
        cursor_advance(c);
        while (c->p < c->end) {
                if (*c->p == '"') {
                        cursor_advance(c);
                        return 0;
                }
                if (*c->p == '\\') {
                        cursor_advance(c);
                        if (c->p >= c->end)
                                return -EINVAL;
                }
                cursor_advance(c);
        }
        return -EINVAL;
}

static int cursor_skip_value(struct cursor *c) {
        unsigned depth = 0;

        if (c->p >= c->end)
                return -EINVAL;
        if (*c->p == '"')
                return cursor_skip_string(c);
        if (*c->p != '{' && *c->p != '[') {
                const char *first = c->p;

                while (c->p < c->end && !is_json_blank(*c->p) && !strchr(",}]", *c->p))
                        cursor_advance(c);
                return c->p > first ? 0 : -EINVAL;
        }
        while (c->p < c->end) {
                switch (*c->p) {
                case '"':
                        if (cursor_skip_string(c) < 0)
                                return -EINVAL;
                        continue;
                case '{':
                case '[':
                        depth++;
                        break;
                case '}':
                case ']':
                        if (--depth == 0) {
                                cursor_advance(c);
                                return 0;
                        }
                        break;
                default:
                        break;
                }
                cursor_advance(c);
        }
        return -EINVAL;
}

static int scan_add_key(struct scan *s, const char *token, size_t len, struct text_pos key_pos) {
        json_auto_t *decoded = NULL;
        struct scanned_key *keys;
        char *key;

        decoded = json_loadb(token, len, JSON_DECODE_ANY, NULL);
        if (!json_is_string(decoded))
                return -EINVAL;
        key = strdup(json_string_value(decoded));
        if (!key)
                return -ENOMEM;
        keys = reallocarray(s->keys, s->n_keys + 1, sizeof(*keys));
        if (!keys) {
                free(key);
                return -ENOMEM;
        }
        s->keys = keys;
        s->keys[s->n_keys++] = (struct scanned_key){.key = key, .key_pos = key_pos};
        return 0;
}

static bool all_blank(const char *buf, size_t len) {
        for (size_t i = 0; i < len; i++)
                if (!is_json_blank(buf[i]))
                        return false;
        return true;
}

/* Returns 0 when the whole object was walked, -EINVAL when it stopped early, -ENOMEM. */
static int scan_text(const char *buf, size_t len, struct scan *s) {
        struct cursor c = {.p = buf, .end = buf + len, .pos = {1, 1}};
        int r;

        cursor_skip_blanks(&c);
        s->start = c.pos;
        if (!cursor_at(&c, '{'))
                return -EINVAL;
        cursor_advance(&c);
        cursor_skip_blanks(&c);
        if (cursor_at(&c, '}'))
                return 0;
        for (;;) {
                struct text_pos key_pos = c.pos;
                const char *token = c.p;

                if (cursor_skip_string(&c) < 0)
                        return -EINVAL;
                r = scan_add_key(s, token, (size_t) (c.p - token), key_pos);
                if (r < 0)
                        return r;
                cursor_skip_blanks(&c);
                if (!cursor_at(&c, ':'))
                        return -EINVAL;
                cursor_advance(&c);
                cursor_skip_blanks(&c);
                s->keys[s->n_keys - 1].value_pos = c.pos;
                if (cursor_skip_value(&c) < 0)
                        return -EINVAL;
                cursor_skip_blanks(&c);
                if (cursor_at(&c, '}'))
                        return 0;
                if (!cursor_at(&c, ','))
                        return -EINVAL;
                cursor_advance(&c);
                cursor_skip_blanks(&c);
        }
}

_printf_(5, 6) static int fail(char **ret_error, const char *filename, struct text_pos pos, int error,
                               const char *format, ...) {
        _cleanup_free_ char *what = NULL;
        va_list ap;
        int r;

        if (!ret_error)
                return error;
        va_start(ap, format);
        r = vasprintf(&what, format, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        if (asprintf(ret_error, "%s:%u:%u: %s", filename, MAX(pos.line, 1u), MAX(pos.column, 1u), what) < 0)
                return -ENOMEM;
        return error;
}

/* A user's value quoted back as JSON: escapes keep the message on one line, long values are cut. */
static char *show_value(const json_t *v) {
        char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        size_t cut = SHOW_VALUE_MAX;

        /* Shown whole when no longer than its cut form would be: "..." must fit in what json_dumps() allocated. */
        if (!s || strlen(s) <= SHOW_VALUE_MAX + 3)
                return s;
        while (cut > 0 && ((unsigned char) s[cut] & 0xc0) == 0x80) /* do not split a UTF-8 sequence */
                cut--;
        strcpy(s + cut, "...");
        return s;
}

static char *show_string(const char *s) {
        json_auto_t *v = json_string(s);

        return v ? show_value(v) : NULL;
}

/* For one quoted value per message: _show_ is freed when policy_parse() returns. */
#define SHOW_WITH(f, v)                                                                                                \
        ({                                                                                                             \
                _show_ = f(v);                                                                                         \
                if (!_show_)                                                                                           \
                        return -ENOMEM;                                                                                \
                _show_;                                                                                                \
        })
#define SHOW(v)     SHOW_WITH(show_value, v)
#define SHOW_STR(s) SHOW_WITH(show_string, s)

/* FNV-1a, 64 bits. */
static uint64_t hash_path(const char *s) {
        uint64_t h = UINT64_C(14695981039346656037);

        for (; *s; s++)
                h = (h ^ (unsigned char) *s) * UINT64_C(1099511628211);
        return h;
}

int policy_name_for_cgroup(const char *cgroup, bool hashed, char **ret) {
        const size_t prefix_max = POLICY_MAX_NAME - 18; /* "_h" and 16 hex digits */
        _cleanup_free_ char *s = NULL;
        size_t o = 0, cut = 0;

        if (!cgroup || cgroup[0] != '/' || !ret)
                return -EINVAL;
        s = malloc(3 * strlen(cgroup) + POLICY_MAX_NAME + 1);
        if (!s)
                return -ENOMEM;
        for (const char *c = cgroup + 1; *c; c++) {
                unsigned char ch = (unsigned char) *c;
                if (ch == '/')
                        s[o++] = '-';
                else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                         (ch == '.' && o > 0))
                        s[o++] = (char) ch;
                else
                        o += (size_t) sprintf(s + o, "_%02x", ch);
                if (o <= prefix_max)
                        cut = o;
        }
        s[o] = '\0';
        if (o == 0 && !hashed)
                strcpy(s, "_root");
        else if (hashed || o > POLICY_MAX_NAME)
                sprintf(s + cut, "_h%016" PRIx64, hash_path(cgroup));
        *ret = TAKE_PTR(s);
        return 0;
}

bool policy_name_valid(const char *name) {
        size_t n = strlen(name);

        if (n == 0 || n > POLICY_MAX_NAME || streq(name, ".") || streq(name, ".."))
                return false;
        return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

/* The file's basename without ".json". */
static char *default_name(const char *filename) {
        const char *base = strrchr(filename, '/');
        size_t n;

        base = base ? base + 1 : filename;
        n = strlen(base);
        if (n >= 5 && streq(base + n - 5, ".json"))
                n -= 5;
        return strndup(base, n);
}

/* Sizes: non-negative integer bytes, or a string with a unit. Returns 0, -EINVAL or -ERANGE. */
static int parse_size(const json_t *v, uint64_t *ret) {
        if (json_is_integer(v)) {
                json_int_t i = json_integer_value(v);
                if (i < 0)
                        return -EINVAL;
                *ret = (uint64_t) i;
                return 0;
        }
        if (json_is_string(v))
                return units_parse_size(json_string_value(v), ret);
        return -EINVAL;
}

int policy_parse(const char *filename, const char *buf, size_t len, struct policy *ret, char **ret_error) {
        _cleanup_(policy_done) struct policy p = {
                .budget = POLICY_DEFAULT_BUDGET,
                .enforce = true,
                .meminfo = true,
        };
        _cleanup_(scan_done) struct scan s = {};
        _cleanup_free_ char *_show_ = NULL;
        struct knob_change change;
        const struct text_pos first = {1, 1};
        struct text_pos hugetlb_pos = first;
        const struct scanned_key *ratio_key = NULL, *limit_key = NULL;
        json_auto_t *root = NULL;
        json_error_t jerr;
        int r;

        if (!filename || !buf || !ret)
                return -EINVAL;
        if (len > POLICY_MAX_FILE_BYTES)
                return fail(ret_error, filename, first, -EINVAL,
                            "the file is %zu bytes, more than the %u a policy may hold: keep one small JSON object",
                            len, POLICY_MAX_FILE_BYTES);
        if (all_blank(buf, len))
                return fail(ret_error, filename, first, -EINVAL,
                            "the file is empty: write one JSON object, at least {\"cgroup\": \"/some/cgroup\"}");

        root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root) {
                struct text_pos at = {jerr.line > 0 ? (unsigned) jerr.line : 1,
                                      jerr.column > 0 ? (unsigned) jerr.column : 1};

                if (json_error_code(&jerr) == json_error_out_of_memory)
                        return -ENOMEM;
                if (json_error_code(&jerr) == json_error_duplicate_key) {
                        r = scan_text(buf, len, &s);
                        if (r == -ENOMEM)
                                return r;
                        for (size_t i = 1; i < s.n_keys; i++)
                                for (size_t j = 0; j < i; j++)
                                        if (streq(s.keys[i].key, s.keys[j].key))
                                                return fail(ret_error, filename, s.keys[i].key_pos, -EINVAL,
                                                            "duplicate key %s (first given at line %u, column "
                                                            "%u): keep one",
                                                            SHOW_STR(s.keys[i].key), s.keys[j].key_pos.line,
                                                            s.keys[j].key_pos.column);
                }
                return fail(ret_error, filename, at, -EINVAL, "invalid JSON: %s", jerr.text);
        }

        r = scan_text(buf, len, &s);
        if (r == -ENOMEM)
                return r;
        if (!json_is_object(root))
                return fail(ret_error, filename, s.start, -EINVAL,
                            "a policy is one JSON object {\"cgroup\": ..., ...}, not an array");
        if (r < 0 || s.n_keys != json_object_size(root)) /* cannot happen: jansson took the text */
                return fail(ret_error, filename, s.start, -EINVAL, "cannot locate the keys of this object");

        for (size_t i = 0; i < s.n_keys; i++) {
                const struct scanned_key *k = &s.keys[i];
                const json_t *v = json_object_get(root, k->key);
                struct text_pos at = k->value_pos;
                uint64_t *size = NULL;
                bool *has = NULL;
                int key = key_from_string(k->key);

                if (key < 0) {
                        const char *near = key_suggest(k->key);
                        return fail(ret_error, filename, k->key_pos, -EINVAL, "unknown key %s%s%s%s (known keys: %s)",
                                    SHOW_STR(k->key), near ? ": did you mean \"" : "", near ?: "", near ? "\"?" : "",
                                    KNOWN_KEYS);
                }
                assert(v);

                switch ((enum policy_key) key) {
                case KEY_NAME:
                        if (!json_is_string(v) || !policy_name_valid(json_string_value(v)))
                                return fail(ret_error, filename, at, -EINVAL,
                                            "\"name\" must be a string of 1 to %u letters, digits, '_', '.' or "
                                            "'-', not %s",
                                            POLICY_MAX_NAME, SHOW(v));
                        p.name = strdup(json_string_value(v));
                        if (!p.name)
                                return -ENOMEM;
                        break;
                case KEY_DESCRIPTION:
                        if (!json_is_string(v))
                                return fail(ret_error, filename, at, -EINVAL,
                                            "\"description\" must be a string, not %s", SHOW(v));
                        p.description = strdup(json_string_value(v));
                        if (!p.description)
                                return -ENOMEM;
                        break;
                case KEY_CGROUP:
                        /* "" would normalize to the root: more likely a slip than a budget for the host. */
                        if (!json_is_string(v) || json_string_value(v)[0] == '\0')
                                r = -EINVAL;
                        else
                                r = cgroupfs_path_normalize(json_string_value(v), &p.cgroup);
                        if (r == -ENOMEM)
                                return r;
                        if (r < 0)
                                return fail(ret_error, filename, at, -EINVAL,
                                            "\"cgroup\" must be a path below the cgroup v2 root, like "
                                            "\"/tenants/a\" (no \".\", \"..\" or empty components), not %s",
                                            SHOW(v));
                        break;
                case KEY_MODE:
                        if (knob_parse_json(KNOB_MODE, v, false, &change) < 0)
                                return fail(ret_error, filename, at, -EINVAL, "%s, not %s", knob_json_rule(KNOB_MODE),
                                            SHOW(v));
                        p.budget.mode = change.mode;
                        break;
                case KEY_FORMULA:
                        r = json_is_string(v) ? commit_formula_from_string(json_string_value(v)) : -EINVAL;
                        if (r < 0)
                                return fail(ret_error, filename, at, -EINVAL,
                                            "\"formula\" must be \"kernel\" or \"classic\", not %s", SHOW(v));
                        p.budget.formula = (enum commit_formula) r;
                        break;
                case KEY_RATIO:
                        ratio_key = k;
                        if (limit_key)
                                break;
                        if (knob_parse_json(KNOB_RATIO, v, false, &change) < 0)
                                return fail(ret_error, filename, at, -EINVAL, "%s, not %s", knob_json_rule(KNOB_RATIO),
                                            SHOW(v));
                        p.budget.ratio = change.ratio;
                        break;
                case KEY_LIMIT:
                        limit_key = k;
                        size = &p.budget.limit_bytes;
                        has = &p.budget.has_limit;
                        break;
                case KEY_RAM:
                        size = &p.budget.ram_bytes;
                        has = &p.has_ram;
                        break;
                case KEY_SWAP:
                        size = &p.budget.swap_bytes;
                        has = &p.has_swap;
                        break;
                case KEY_HUGETLB:
                        size = &p.budget.hugetlb_bytes;
                        has = &p.has_hugetlb;
                        hugetlb_pos = at;
                        break;
                case KEY_ADMIN_RESERVE:
                        size = &p.budget.admin_reserve_bytes;
                        has = &p.has_admin_reserve;
                        break;
                case KEY_USER_RESERVE:
                        size = &p.budget.user_reserve_bytes;
                        has = &p.has_user_reserve;
                        break;
                case KEY_ENFORCE:
                        if (!json_is_boolean(v))
                                return fail(ret_error, filename, at, -EINVAL,
                                            "\"enforce\" must be true or false, not %s", SHOW(v));
                        p.enforce = json_is_true(v);
                        break;
                case KEY_MEMINFO:
                        if (!json_is_boolean(v))
                                return fail(ret_error, filename, at, -EINVAL,
                                            "\"meminfo\" must be true or false, not %s", SHOW(v));
                        p.meminfo = json_is_true(v);
                        break;
                case _KEY_MAX:
                default:
                        assert(false);
                        return -EINVAL;
                }

                /* Like vm.overcommit_ratio and vm.overcommit_kbytes, one of the two is in force. */
                if (ratio_key && limit_key)
                        return fail(ret_error, filename, k->key_pos, -EINVAL,
                                    "\"ratio\" and \"limit\" are exclusive: give one (setting one clears the other)");

                if (size) {
                        r = parse_size(v, size);
                        if (r == -ERANGE)
                                return fail(ret_error, filename, at, -EINVAL,
                                            "\"%s\" is too large: %s does not fit in 64 bits of bytes", key_names[key],
                                            SHOW(v));
                        if (r < 0)
                                return fail(ret_error, filename, at, -EINVAL,
                                            "\"%s\" must be a size: bytes as a non-negative integer, or a string "
                                            "like \"512M\", \"4G\" or \"4GiB\", not %s",
                                            key_names[key], SHOW(v));
                        *has = true;
                }
        }

        if (!p.cgroup)
                return fail(ret_error, filename, s.start, -EINVAL,
                            "missing \"cgroup\": name the cgroup this policy governs, e.g. \"cgroup\": "
                            "\"/system.slice/postgresql.service\"");
        if (p.has_ram && p.has_hugetlb && p.budget.hugetlb_bytes > p.budget.ram_bytes)
                return fail(ret_error, filename, hugetlb_pos, -EINVAL,
                            "\"hugetlb\" (%" PRIu64 " bytes) must not be larger than \"ram\" (%" PRIu64
                            " bytes): huge pages are reserved out of ram",
                            p.budget.hugetlb_bytes, p.budget.ram_bytes);
        if (!p.name) {
                p.name = default_name(filename);
                if (!p.name)
                        return -ENOMEM;
                if (!policy_name_valid(p.name))
                        return fail(ret_error, filename, s.start, -EINVAL,
                                    "the policy is named after the file, and %s is not a valid name: set \"name\" "
                                    "(1 to %u letters, digits, '_', '.' or '-') or rename the file",
                                    SHOW_STR(p.name), POLICY_MAX_NAME);
        }

        *ret = p;
        p = (struct policy){};
        return 0;
}

int policy_load_file(const char *path, struct policy *ret, char **ret_error) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r;

        if (!path || !ret)
                return -EINVAL;
        r = fileio_read_full(path, POLICY_MAX_FILE_BYTES, &buf, &len);
        if (r < 0) {
                if (r == -ENOMEM)
                        return r;
                /* The I/O errno goes back as it is: a reload tells a file deleted under it from a bad one. */
                if (ret_error) {
                        int k;
                        if (r == -EFBIG)
                                k = asprintf(ret_error, "%s: larger than %u bytes, the most a policy file may hold",
                                             path, POLICY_MAX_FILE_BYTES);
                        else
                                k = asprintf(ret_error, "%s: %s", path, strerror(-r));
                        if (k < 0)
                                return -ENOMEM;
                }
                return r;
        }
        return policy_parse(path, buf, len, ret, ret_error);
}

void policy_done(struct policy *p) {
        if (!p)
                return;
        free(p->name);
        free(p->cgroup);
        free(p->description);
        *p = (struct policy){};
}

static int set_size(json_t *o, const char *key, uint64_t bytes) {
        /* json_int_t is signed: a size above INT64_MAX bytes (8 EiB) is written as a string of bytes. */
        if (bytes > INT64_MAX) {
                char s[24];
                snprintf(s, sizeof(s), "%" PRIu64, bytes);
                return json_object_set_new(o, key, json_string(s));
        }
        return json_object_set_new(o, key, json_integer((json_int_t) bytes));
}

json_t *policy_to_json(const struct policy *p) {
        json_auto_t *o = NULL;
        const char *mode, *formula;

        if (!p || !p->name || !p->cgroup)
                return NULL;
        mode = commit_mode_to_string(p->budget.mode);
        formula = commit_formula_to_string(p->budget.formula);
        if (!mode || !formula)
                return NULL;

        o = json_object();
        if (!o)
                return NULL;
        if (json_object_set_new(o, "name", json_string(p->name)) < 0 ||
            json_object_set_new(o, "cgroup", json_string(p->cgroup)) < 0 ||
            (p->description && json_object_set_new(o, "description", json_string(p->description)) < 0) ||
            json_object_set_new(o, "mode", json_string(mode)) < 0 ||
            json_object_set_new(o, "formula", json_string(formula)) < 0 ||
            json_object_set_new(o, "enforce", json_boolean(p->enforce)) < 0 ||
            json_object_set_new(o, "meminfo", json_boolean(p->meminfo)) < 0)
                return NULL;
        if (p->budget.has_limit ? set_size(o, "limit", p->budget.limit_bytes) < 0
                                : json_object_set_new(o, "ratio", json_integer(p->budget.ratio)) < 0)
                return NULL;
        if ((p->has_ram && set_size(o, "ram", p->budget.ram_bytes) < 0) ||
            (p->has_swap && set_size(o, "swap", p->budget.swap_bytes) < 0) ||
            (p->has_hugetlb && set_size(o, "hugetlb", p->budget.hugetlb_bytes) < 0) ||
            (p->has_admin_reserve && set_size(o, "admin_reserve", p->budget.admin_reserve_bytes) < 0) ||
            (p->has_user_reserve && set_size(o, "user_reserve", p->budget.user_reserve_bytes) < 0))
                return NULL;
        return TAKE_PTR(o);
}
