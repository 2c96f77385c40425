/* SPDX-License-Identifier: MIT */
/* A program whose image commits 32 MiB: its bss, mapped and charged by execve() (load_elf_binary()) before
 * any call commitd sees. Then it maps 24 MiB and prints "OK map:24M" or "ENOMEM map:24M", prints WAITING and
 * holds everything until a line arrives on stdin (enforce-hostile-maps.sh, the exec case). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

char bigimage_bss[32 << 20]; /* not static: the compiler keeps it */

int main(void) {
        char line[16];
        void *p = mmap(NULL, 24 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        printf("%s map:24M\n", p == MAP_FAILED ? (errno == ENOMEM ? "ENOMEM" : strerror(errno)) : "OK");
        printf("bss=%zu\nWAITING\n", sizeof(bigimage_bss));
        fflush(stdout);
        return fgets(line, sizeof(line), stdin) ? 0 : 1;
}
