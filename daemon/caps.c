/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "caps.h"
#include "macro.h"

static const cap_value_t runtime_caps[] = {CAP_SYS_PTRACE, CAP_DAC_OVERRIDE, CAP_CHECKPOINT_RESTORE};

static bool permitted(cap_t c, cap_value_t v) {
        cap_flag_value_t f = CAP_CLEAR;
        return cap_get_flag(c, v, CAP_PERMITTED, &f) == 0 && f == CAP_SET;
}

int caps_check(bool need_chown, const char **ret_missing) {
        cap_t c = cap_get_proc();
        int r = 0;

        if (!c)
                return -errno;
        if (!permitted(c, CAP_SYS_PTRACE))
                *ret_missing = "CAP_SYS_PTRACE", r = -EPERM;
        else if (!permitted(c, CAP_DAC_OVERRIDE))
                *ret_missing = "CAP_DAC_OVERRIDE", r = -EPERM;
        else if (!permitted(c, CAP_CHECKPOINT_RESTORE))
                *ret_missing = "CAP_CHECKPOINT_RESTORE", r = -EPERM;
        else if (need_chown && !permitted(c, CAP_CHOWN))
                *ret_missing = "CAP_CHOWN", r = -EPERM;
        else if (!permitted(c, CAP_SETPCAP))
                *ret_missing = "CAP_SETPCAP", r = -EPERM; /* to shrink the bounding set after setup */
        cap_free(c);
        return r;
}

static bool kept(cap_value_t v) {
        for (size_t i = 0; i < ELEMENTSOF(runtime_caps); i++)
                if (runtime_caps[i] == v)
                        return true;
        return false;
}

int caps_drop_to_runtime(void) {
        cap_t c;
        int r = 0;

        /* The bounding set first: dropping from it needs CAP_SETPCAP, which goes next. */
        for (cap_value_t v = 0; v <= CAP_LAST_CAP; v++)
                if (!kept(v) && cap_drop_bound(v) < 0 && errno != EINVAL)
                        return -errno;
        c = cap_init();
        if (!c)
                return -errno;
        if (cap_set_flag(c, CAP_PERMITTED, ELEMENTSOF(runtime_caps), runtime_caps, CAP_SET) < 0 ||
            cap_set_flag(c, CAP_EFFECTIVE, ELEMENTSOF(runtime_caps), runtime_caps, CAP_SET) < 0 || cap_set_proc(c) < 0)
                r = -errno;
        cap_free(c);
        /* Ambient capabilities would pass to the keeper through execve(); none are wanted. */
        if (r == 0 && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                r = -errno;
        return r;
}

int caps_drop_bounding(void) {
        for (cap_value_t v = 0; v <= CAP_LAST_CAP; v++)
                if (cap_drop_bound(v) < 0 && errno != EINVAL) /* EINVAL: a capability this kernel does not know */
                        return -errno;
        return 0;
}

int caps_drop_all(void) {
        cap_t none;
        int r;

        /* The bounding set where allowed (a keeper started before commitd dropped CAP_SETPCAP): then even an
         * execve() as uid 0 gives nothing back. */
        (void) caps_drop_bounding();
        none = cap_init();
        r = none && cap_set_proc(none) == 0 ? 0 : -errno;
        cap_free(none);
        return r;
}
