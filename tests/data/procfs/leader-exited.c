#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
/* The leader maps 32M private writable and 8M shared anonymous, starts a thread and calls SYS_exit: a zombie
 * leader whose thread holds the whole mm. */
static void *worker(void *x) {
        (void) x;
        for (;;)
                pause();
}
int main(void) {
        pthread_t t;
        mmap(NULL, 32 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        mmap(NULL, 8 << 20, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        pthread_create(&t, NULL, worker, NULL);
        printf("%d\n", getpid());
        fflush(stdout);
        syscall(SYS_exit, 0);
}
