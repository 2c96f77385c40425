/* SPDX-License-Identifier: MIT */
/* The exposition formatter: label values escaped, HELP and TYPE once per family before its samples, base units
 * (bytes as integers, microseconds written as seconds), a histogram's buckets cumulative up to le="+Inf". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "macro.h"
#include "metrics.h"

static char *format(const char *json) {
        json_error_t error;
        json_t *m = json_loads(json, 0, &error);
        char *out = NULL;
        size_t size = 0;
        FILE *f;

        assert_non_null(m);
        f = open_memstream(&out, &size);
        assert_non_null(f);
        assert_int_equal(metrics_write(f, m), 0);
        fclose(f);
        json_decref(m);
        return out;
}

static void assert_line(const char *text, const char *line) {
        size_t n = strlen(line);
        for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
                        return;
        fail_msg("no line \"%s\" in:\n%s", line, text);
}

static size_t count(const char *text, const char *needle) {
        size_t n = 0;
        for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
                n++;
        return n;
}

static void test_label_escaping(void **state) {
        _cleanup_free_ char *out = NULL;
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        (void) state;

        metrics_write_label_value(f, "a\\b\"c\nd/é");
        fclose(f);
        assert_string_equal(buf, "a\\\\b\\\"c\\nd/é");
        free(buf);

        /* A cgroup directory may be named anything but '/' and NUL: the quote, backslash and newline escaped in
         * every family's samples, which stay one line each. */
        out = format("{\"budgets\": [{\"cgroup\": \"/t/we\\\"ird\\\\na\\nme\", \"policy\": \"p\", \"mode\": "
                     "\"strict\", \"enforce\": true, \"committed_bytes\": 5, \"refused\": {\"mmap\": 1}}]}");
        assert_line(out, "commitd_budget_info{cgroup=\"/t/we\\\"ird\\\\na\\nme\",policy=\"p\",mode=\"strict\","
                         "enforce=\"true\"} 1");
        assert_line(out, "commitd_budget_committed_bytes{cgroup=\"/t/we\\\"ird\\\\na\\nme\"} 5");
        assert_line(out, "commitd_budget_refused_calls_total{cgroup=\"/t/we\\\"ird\\\\na\\nme\",call=\"mmap\"} 1");
}

static void test_families(void **state) {
        _cleanup_free_ char *out = format(
                "{\"version\": \"0.1.0\","
                " \"host\": {\"commit_limit_bytes\": 12351274496, \"committed_bytes\": 4096, \"overcommit_memory\": 0},"
                " \"daemon\": {\"listeners\": 2, \"listeners_recovered\": 1, \"keeper_up\": true,"
                "  \"judge\": {\"le_usec\": [10, 100, 1500], \"counts\": [3, 0, 2, 1], \"sum_usec\": 2500123},"
                "  \"remeasure\": {\"count\": 4, \"sum_usec\": 1500}},"
                " \"budgets\": ["
                "  {\"cgroup\": \"/a\", \"policy\": \"pa\", \"mode\": \"strict\", \"enforce\": true,"
                "   \"commit_limit_bytes\": 67108864, \"committed_bytes\": 1024, \"enrolled_processes\": 1,"
                "   \"listeners\": 1, \"level_refusals\": 2, \"admitted\": {\"mmap\": 7, \"brk\": 0},"
                "   \"refused\": {\"mmap\": 2, \"brk\": 0}},"
                "  {\"cgroup\": \"/a/b\", \"policy\": null, \"mode\": null, \"enforce\": false,"
                "   \"commit_limit_bytes\": null, \"committed_bytes\": 0, \"admitted\": {\"mmap\": 1}}]}");
        (void) state;

        assert_line(out, "# HELP commitd_build_info The version of the commitd that answered; always 1.");
        assert_line(out, "# TYPE commitd_build_info gauge");
        assert_line(out, "commitd_build_info{version=\"0.1.0\"} 1");
        assert_line(out, "# TYPE commitd_host_commit_limit_bytes gauge");
        assert_line(out, "commitd_host_commit_limit_bytes 12351274496");
        assert_line(out, "commitd_host_committed_bytes 4096");
        assert_line(out, "commitd_host_overcommit_memory 0");
        assert_line(out, "commitd_keeper_up 1");
        assert_line(out, "commitd_listeners 2");
        assert_line(out, "commitd_listeners_recovered 1");

        /* Seconds, cumulative buckets, +Inf equal to the count. */
        assert_line(out, "# TYPE commitd_judge_duration_seconds histogram");
        assert_line(out, "commitd_judge_duration_seconds_bucket{le=\"0.00001\"} 3");
        assert_line(out, "commitd_judge_duration_seconds_bucket{le=\"0.0001\"} 3");
        assert_line(out, "commitd_judge_duration_seconds_bucket{le=\"0.0015\"} 5");
        assert_line(out, "commitd_judge_duration_seconds_bucket{le=\"+Inf\"} 6");
        assert_line(out, "commitd_judge_duration_seconds_sum 2.500123");
        assert_line(out, "commitd_judge_duration_seconds_count 6");
        assert_line(out, "# TYPE commitd_remeasure_duration_seconds summary");
        assert_line(out, "commitd_remeasure_duration_seconds_sum 0.0015");
        assert_line(out, "commitd_remeasure_duration_seconds_count 4");

        /* Counters end in _total; one HELP and TYPE per family, however many budgets; null leaves a sample out. */
        assert_line(out, "# TYPE commitd_budget_admitted_calls_total counter");
        assert_line(out, "commitd_budget_admitted_calls_total{cgroup=\"/a\",call=\"mmap\"} 7");
        assert_line(out, "commitd_budget_admitted_calls_total{cgroup=\"/a\",call=\"brk\"} 0");
        assert_line(out, "commitd_budget_admitted_calls_total{cgroup=\"/a/b\",call=\"mmap\"} 1");
        assert_line(out, "commitd_budget_refused_calls_total{cgroup=\"/a\",call=\"mmap\"} 2");
        assert_line(out, "commitd_budget_level_refusals_total{cgroup=\"/a\"} 2");
        assert_line(out, "commitd_budget_commit_limit_bytes{cgroup=\"/a\"} 67108864");
        assert_null(strstr(out, "commitd_budget_commit_limit_bytes{cgroup=\"/a/b\"}"));
        assert_line(out, "commitd_budget_info{cgroup=\"/a/b\",policy=\"\",mode=\"\",enforce=\"false\"} 1");
        assert_int_equal(count(out, "# TYPE commitd_budget_admitted_calls_total "), 1);
        assert_int_equal(count(out, "# HELP commitd_budget_info "), 1);
        /* No family without samples: none had would_refuse. */
        assert_null(strstr(out, "would_refuse"));
        /* Every HELP is followed by its TYPE, and every sample line belongs to the family announced last. */
        {
                char family[128] = "";
                const char *p = out, *end;
                for (; *p; p = end + 1) {
                        end = strchr(p, '\n');
                        assert_non_null(end); /* every line ends with one */
                        if (strncmp(p, "# HELP ", 7) == 0) {
                                const char *name = p + 7;
                                size_t n = strcspn(name, " ");
                                snprintf(family, sizeof(family), "%.*s", (int) n, name);
                                assert_int_equal(strncmp(end + 1, "# TYPE ", 7), 0);
                                assert_int_equal(strncmp(end + 1 + 7, family, n), 0);
                        } else if (*p != '#')
                                assert_int_equal(strncmp(p, family, strlen(family)), 0);
                }
        }
        assert_int_equal(out[strlen(out) - 1], '\n');
}

static void test_help_escaping_and_tenant(void **state) {
        /* A tenant's reply has no "daemon": its families are left out, the rest stands. */
        _cleanup_free_ char *out = format("{\"version\": \"x\\\\y\\nz\", \"host\": {\"overcommit_memory\": 2}}");
        (void) state;

        assert_line(out, "commitd_build_info{version=\"x\\\\y\\nz\"} 1");
        assert_line(out, "commitd_host_overcommit_memory 2");
        assert_null(strstr(out, "commitd_judge_duration_seconds"));
        assert_null(strstr(out, "commitd_keeper_up"));
}

/* The exporter's own gauge, typed and helped like every family. */
static void test_up(void **state) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        (void) state;

        assert_int_equal(metrics_write_up(f, false), 0);
        assert_int_equal(metrics_write_up(f, true), 0);
        fclose(f);
        assert_line(buf, "# TYPE commitd_up gauge");
        assert_line(buf, "commitd_up 0");
        assert_line(buf, "commitd_up 1");
        assert_int_equal(count(buf, "# HELP commitd_up "), 2);
        free(buf);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_label_escaping),
                cmocka_unit_test(test_families),
                cmocka_unit_test(test_help_escaping_and_tenant),
                cmocka_unit_test(test_up),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
