/* SPDX-License-Identifier: MIT */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <termios.h>
#include <time.h>

/* A full-screen view on the terminal, as commitctl top draws it: raw keys, the alternate screen, the size, and
 * the signals a terminal sends (^C, hang-up, resize, ^Z) handled so the shell gets its terminal back. */
struct screen {
        struct termios saved;
        unsigned rows, cols;
        sigset_t unblocked; /* the signal mask before screen_open(), in force only while waiting */
};

/* What one screen_wait() saw. */
struct screen_input {
        bool quit;     /* ^C, SIGTERM, SIGHUP, or the terminal went away */
        bool redraw;   /* resized, or back from ^Z */
        bool fd_ready; /* the other fd has something to read */
        char keys[64]; /* keys pressed, n_keys of them */
        size_t n_keys;
};

/* Saves the terminal's settings: -errno when stdin is not a terminal (then nothing is taken). */
int screen_init(struct screen *s);
/* Takes the terminal: the signals caught, raw keys, the alternate screen. screen_close() gives everything back,
 * whatever screen_open() returned. */
int screen_open(struct screen *s);
void screen_close(struct screen *s);

/* Waits for a key, a signal, fd (-1: none) to become readable, or the timeout (NULL: none). A ^Z stops the
 * process here with the terminal given back, and takes it again at SIGCONT. */
int screen_wait(struct screen *s, int fd, const struct timespec *timeout, struct screen_input *ret);

/* One frame, built line by line: each cut to the width, as many as the height leaves. */
struct screen_frame {
        const struct screen *screen;
        FILE *f;
        char *text;
        size_t size;
        unsigned line;
};

int screen_frame_begin(struct screen_frame *fr, const struct screen *s);
/* False when the screen is full (the line is not drawn). reverse: in reverse video, as a column header. */
bool screen_frame_line(struct screen_frame *fr, const char *line, size_t len, bool reverse);
/* Clears below the last line and writes the frame at once; frees it in every case. */
void screen_frame_end(struct screen_frame *fr);
