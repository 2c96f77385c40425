/* Maps one region of each kind commitd must classify, prints them, then waits for smaps to be read. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

#define MiB(n) ((size_t) (n) << 20)

static void *map(const char *what, size_t len, int prot, int flags) {
        void *p = mmap(NULL, len, prot, flags, -1, 0);
        if (p == MAP_FAILED) {
                perror(what);
                exit(1);
        }
        printf("%-28s %p %zu\n", what, p, len);
        return p;
}

int main(void) {
        setvbuf(stdout, NULL, _IONBF, 0);
        map("private-rw 8M (ac)", MiB(8), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        void *dc = map("private-rw dontfork 1M", MiB(1), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        if (madvise(dc, MiB(1), MADV_DONTFORK) < 0) {
                perror("madvise");
                return 1;
        }
        map("private-rw noreserve 16M", MiB(16), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
        map("private-ro 512K", 512 << 10, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
        void *mp = map("private ro->rw 3M", MiB(3), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
        if (mprotect(mp, MiB(3), PROT_READ | PROT_WRITE) < 0) {
                perror("mprotect");
                return 1;
        }
        void *sh = map("shared-anon 2M", MiB(2), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS);
        /* A second, smaller view of the same shmem object: charged once, at its full 2M. */
        void *sh2 = mremap(sh, 0, MiB(1), MREMAP_MAYMOVE);
        if (sh2 == MAP_FAILED) {
                perror("mremap");
                return 1;
        }
        printf("%-28s %p %zu\n", "shared-anon alias 1M", sh2, MiB(1));
        map("shared-anon noreserve 1M", MiB(1), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE);
        int id = shmget(IPC_PRIVATE, MiB(4), IPC_CREAT | 0600);
        if (id < 0) {
                perror("shmget");
                return 1;
        }
        void *s = shmat(id, NULL, 0);
        if (s == (void *) -1) {
                perror("shmat");
                return 1;
        }
        shmctl(id, IPC_RMID, NULL);
        printf("%-28s %p %zu id=%d\n", "sysv 4M", s, MiB(4), id);
        int id2 = shmget(IPC_PRIVATE, MiB(1), IPC_CREAT | SHM_NORESERVE | 0600);
        if (id2 < 0) {
                perror("shmget noreserve");
                return 1;
        }
        void *s2 = shmat(id2, NULL, 0);
        if (s2 == (void *) -1) {
                perror("shmat");
                return 1;
        }
        shmctl(id2, IPC_RMID, NULL);
        printf("%-28s %p %zu id=%d\n", "sysv noreserve 1M", s2, MiB(1), id2);
        int fd = open("/etc/hostname", O_RDONLY);
        if (fd >= 0) {
                void *f = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
                if (f != MAP_FAILED)
                        printf("%-28s %p %d\n", "file private-rw 4K", f, 4096);
                void *f2 = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
                if (f2 != MAP_FAILED)
                        printf("%-28s %p %d\n", "file shared-ro 4K", f2, 4096);
        }
        printf("pid %d ready\n", getpid());
        pause();
        return 0;
}
