/* SPDX-License-Identifier: MIT */
/* The terminal of a full-screen verb (commitctl top): raw mode, the alternate screen, the size and the signals.
 * The signals it catches are blocked except inside ppoll(), so a handler only sets a flag that screen_wait()
 * reads at once, and no other call is ever interrupted. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "macro.h"
#include "screen.h"

static const int screen_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGWINCH, SIGTSTP};

static volatile sig_atomic_t got_quit, got_winch, got_tstp;

static void on_signal(int sig) {
        if (sig == SIGWINCH)
                got_winch = 1;
        else if (sig == SIGTSTP)
                got_tstp = 1;
        else
                got_quit = 1;
}

/* No SA_RESTART: a signal ends ppoll(), and is seen only there (blocked everywhere else). */
static const struct sigaction screen_action = {.sa_handler = on_signal};

static void screen_size(struct screen *s) {
        struct winsize ws;

        s->rows = 24;
        s->cols = 80;
        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) >= 0 && ws.ws_row > 0 && ws.ws_col > 0) {
                s->rows = ws.ws_row;
                s->cols = ws.ws_col;
        }
}

/* Character at a time without echo; ^C and ^Z stay signals (handled: the terminal is put back first). The
 * alternate screen keeps the shell's screen as it was; the cursor is hidden while drawing. */
static int screen_enter(struct screen *s) {
        struct termios raw = s->saved;
        static const char enter[] = "\033[?1049h\033[?25l";

        raw.c_lflag &= ~(tcflag_t) (ICANON | ECHO);
        raw.c_cc[VMIN] = 1;
        raw.c_cc[VTIME] = 0;
        if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) < 0)
                return -errno;
        if (write(STDOUT_FILENO, enter, sizeof(enter) - 1) < 0)
                return -errno;
        screen_size(s);
        return 0;
}

static void screen_leave(struct screen *s) {
        static const char leave[] = "\033[?25h\033[?1049l";

        fflush(stdout);
        (void) !write(STDOUT_FILENO, leave, sizeof(leave) - 1);
        (void) tcsetattr(STDIN_FILENO, TCSADRAIN, &s->saved);
}

/* Stopped by ^Z: the shell gets its terminal back as it was, and this screen returns at SIGCONT. */
static int screen_suspend(struct screen *s) {
        sigset_t tstp;

        screen_leave(s);
        signal(SIGTSTP, SIG_DFL);
        raise(SIGTSTP); /* pending while blocked, stops at the unblock */
        sigemptyset(&tstp);
        sigaddset(&tstp, SIGTSTP);
        sigprocmask(SIG_UNBLOCK, &tstp, NULL);
        sigprocmask(SIG_BLOCK, &tstp, NULL);
        sigaction(SIGTSTP, &screen_action, NULL);
        return screen_enter(s);
}

int screen_init(struct screen *s) {
        *s = (struct screen){0};
        return tcgetattr(STDIN_FILENO, &s->saved) < 0 ? -errno : 0;
}

int screen_open(struct screen *s) {
        sigset_t block;

        sigemptyset(&block);
        for (size_t i = 0; i < ELEMENTSOF(screen_signals); i++)
                sigaddset(&block, screen_signals[i]);
        sigprocmask(SIG_BLOCK, &block, &s->unblocked);
        for (size_t i = 0; i < ELEMENTSOF(screen_signals); i++)
                sigaction(screen_signals[i], &screen_action, NULL);
        return screen_enter(s);
}

void screen_close(struct screen *s) {
        screen_leave(s);
        sigprocmask(SIG_SETMASK, &s->unblocked, NULL);
}

int screen_wait(struct screen *s, int fd, const struct timespec *timeout, struct screen_input *ret) {
        struct pollfd fds[2] = {{.fd = STDIN_FILENO, .events = POLLIN}, {.fd = fd, .events = POLLIN}};
        int r;

        *ret = (struct screen_input){0};
        if (ppoll(fds, 2, timeout, &s->unblocked) < 0 && errno != EINTR)
                return -errno;
        if (got_quit) {
                ret->quit = true;
                return 0;
        }
        if (got_tstp) {
                got_tstp = 0;
                ret->redraw = true;
                r = screen_suspend(s);
                if (r < 0)
                        return r;
        }
        if (got_winch) {
                got_winch = 0;
                screen_size(s);
                ret->redraw = true;
        }
        if (fds[0].revents) {
                ssize_t k = read(STDIN_FILENO, ret->keys, sizeof(ret->keys));

                if (k <= 0 && !(k < 0 && errno == EINTR)) {
                        ret->quit = true; /* the terminal went away */
                        return 0;
                }
                ret->n_keys = k > 0 ? (size_t) k : 0;
                ret->redraw = true;
        }
        ret->fd_ready = fds[1].revents != 0;
        return 0;
}

/* The bytes of s that fill at most cols columns: one column per character (a UTF-8 lead byte), no wide ones. */
static size_t fit_columns(const char *s, size_t len, unsigned cols) {
        unsigned c = 0;
        size_t i;

        for (i = 0; i < len; i++)
                if (((unsigned char) s[i] & 0xC0) != 0x80 && c++ == cols)
                        break;
        return i;
}

int screen_frame_begin(struct screen_frame *fr, const struct screen *s) {
        *fr = (struct screen_frame){.screen = s};
        fr->f = open_memstream(&fr->text, &fr->size);
        if (!fr->f)
                return -ENOMEM;
        fputs("\033[H", fr->f);
        return 0;
}

bool screen_frame_line(struct screen_frame *fr, const char *line, size_t len, bool reverse) {
        if (fr->line >= fr->screen->rows)
                return false;
        if (fr->line++ > 0)
                fputs("\r\n", fr->f);
        if (reverse)
                fputs("\033[7m", fr->f);
        fwrite(line, 1, fit_columns(line, len, fr->screen->cols), fr->f);
        fputs(reverse ? "\033[m\033[K" : "\033[K", fr->f);
        return true;
}

void screen_frame_end(struct screen_frame *fr) {
        fputs("\033[J", fr->f);
        if (fclose(fr->f) == 0) {
                fwrite(fr->text, 1, fr->size, stdout);
                fflush(stdout);
        }
        free(fr->text);
        *fr = (struct screen_frame){0};
}
