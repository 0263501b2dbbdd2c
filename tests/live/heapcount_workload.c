/* Workloads for tests/test_heapcount.py, run under the heap counter (LD_PRELOAD).
 * Usage: heapcount_workload MODE. At each step the program prints the step's name and
 * waits for a line on stdin, so the test can read the counter file and RSS meanwhile. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void spawn(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg) {
    if (pthread_create(t, attr, fn, arg)) {
        fprintf(stderr, "heapcount_workload: cannot create a thread (pids.max, ulimit -u?)\n");
        exit(4);
    }
}

static void step(const char *name) {
    char line[64];
    printf("%s\n", name);
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin)) exit(3);
}

/* The recursion trap of feasibility.md A1: failing dlsym calls, the first of them in a
 * constructor of the program, before main. */
__attribute__((constructor)) static void early_failing_dlsym(void) {
    if (getenv("WORKLOAD_EARLY_DLSYM")) {
        dlsym(RTLD_DEFAULT, "memtop_no_such_symbol_early");
        dlsym(RTLD_NEXT, "memtop_no_such_symbol_early2");
    }
}

static int leak(void) {            /* the guide's structural leak (feasibility.md A4) */
    enum { N = 1000000 };
    char **v = malloc(N * sizeof *v);
    for (int i = 0; i < N; i++) { v[i] = malloc(1024); v[i][0] = 1; }
    step("allocated");
    for (int i = 0; i < N; i++) if (i % 100) free(v[i]);
    step("freed");
    malloc_trim(0);
    step("trimmed");
    return 0;
}

/* One producer allocates, three consumers (that only free) free; a ring buffer between. */
enum { RING = 1024, ITEMS = 200000, CONSUMERS = 3 };
static void *ring[RING];
static unsigned head, tail, produced_done;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void *producer(void *arg) {
    (void)arg;
    for (unsigned i = 0; i < ITEMS; i++) {
        void *p = malloc(16 + (i * 7919u) % 4000);
        pthread_mutex_lock(&mu);
        while (head - tail == RING) pthread_cond_wait(&cv, &mu);
        ring[head++ % RING] = p;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&mu);
    }
    pthread_mutex_lock(&mu);
    produced_done = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    return NULL;
}
static void *consumer(void *arg) {
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&mu);
        while (head == tail && !produced_done) pthread_cond_wait(&cv, &mu);
        if (head == tail) { pthread_mutex_unlock(&mu); return NULL; }
        void *p = ring[tail++ % RING];
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&mu);
        free(p);
    }
}
static int xthread(void) {
    pthread_t t[CONSUMERS + 1];
    step("start");
    spawn(&t[0], NULL, producer, NULL);
    for (int i = 1; i <= CONSUMERS; i++) spawn(&t[i], NULL, consumer, NULL);
    for (int i = 0; i <= CONSUMERS; i++) pthread_join(t[i], NULL);
    step("joined");
    return 0;
}

/* More threads than slots (254): the rest share slot 0. Each keeps 5 of its 10 blocks;
 * main frees those after the join (frees of blocks another thread allocated). */
enum { THREADS = 300, KEEP = 5 };
static void *kept[THREADS][KEEP];
static pthread_barrier_t all_alive, release;
static void *many_worker(void *arg) {
    long i = (long)arg;
    for (int k = 0; k < 2 * KEEP; k++) {
        void *p = malloc(2000);
        if (k % 2) free(p); else kept[i][k / 2] = p;
    }
    pthread_barrier_wait(&all_alive);
    pthread_barrier_wait(&release);
    return NULL;
}
static int many(void) {
    pthread_t t[THREADS];
    pthread_barrier_init(&all_alive, NULL, THREADS + 1);
    pthread_barrier_init(&release, NULL, THREADS + 1);
    step("start");
    for (long i = 0; i < THREADS; i++) spawn(&t[i], NULL, many_worker, (void *)i);
    pthread_barrier_wait(&all_alive);
    step("alive");
    pthread_barrier_wait(&release);
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    step("joined");
    for (int i = 0; i < THREADS; i++) for (int k = 0; k < KEEP; k++) free(kept[i][k]);
    step("freed");
    return 0;
}

/* Threads that die without their exit hook. In real programs glibc frees a detached
 * thread's DTV after the key destructors ran (timing-dependent: the stack cache decides),
 * so a thread whose first counted call is that free claims a slot it never gives back.
 * Here it is forced: each thread allocates, then leaves by a raw exit(2), which skips
 * every pthread cleanup. Then more live threads than slots: they must get those back. */
static void *vanish(void *arg) {
    (void)arg;
    char *p = malloc(100);
    *(volatile char *)p = 1;         /* else the compiler drops the malloc/free pair */
    free(p);
    syscall(SYS_exit, 0);
    return NULL;
}
static int threads_alive(void) {
    int n = 0;
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f)) if (!strncmp(line, "Threads:", 8)) n = atoi(line + 8);
    if (f) fclose(f);
    return n;
}
static int detached(void) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (int i = 0; i < 100; i++) {
        pthread_t t;
        spawn(&t, &attr, vanish, NULL);
    }
    while (threads_alive() > 1) usleep(1000);
    step("died");
    return many();
}

static char *fill(size_t n) { char *p = malloc(n); memset(p, 1, n); return p; }

static int forked(void) {          /* 10 MiB before the fork, the child adds 20 MiB */
    char *a = fill(10 << 20);
    step("before");
    pid_t pid = fork();
    if (pid == 0) {
        char *b = fill(20 << 20);
        printf("child %d\n", (int)getpid());
        fflush(stdout);
        char line[64];
        if (!fgets(line, sizeof line, stdin)) _exit(3);
        free(b);
        exit(0);
    }
    waitpid(pid, NULL, 0);
    step("parent");
    free(a);
    return 0;
}

static int waiter(void) {          /* the exec'd program: says its pid, waits */
    char *a = fill(1 << 20);
    printf("pid %d\n", (int)getpid());
    fflush(stdout);
    char line[64];
    if (!fgets(line, sizeof line, stdin)) return 3;
    free(a);
    return 0;
}

static int execs(const char *self) { /* fork, and the child execs this program in "wait" mode */
    pid_t pid = fork();
    if (pid == 0) {
        execl(self, self, "wait", (char *)NULL);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    step("done");
    return WEXITSTATUS(status);
}

static int exec_fails(void) {      /* a failed exec must leave the counting as it was */
    char *a = fill(1 << 20);
    step("before");
    execlp("memtop-no-such-program", "memtop-no-such-program", (char *)NULL);
    char *b = fill(2 << 20);
    step("failed");
    free(a);
    free(b);
    return 0;
}

static int raw_exec(const char *self) { /* exec behind the library's back: the file stays */
    extern char **environ;
    char *argv[] = {(char *)self, "wait", NULL};
    step("before");
    syscall(SYS_execve, self, argv, environ);
    return 2;
}

static int quick_exit_(void) {      /* _exit, as shells end; a vfork child's _exit first */
    step("running");
    pid_t pid = vfork();
    if (pid == 0) _exit(0);
    waitpid(pid, NULL, 0);
    step("vforked");
    _exit(0);
}

static int failing_dlsym(void) {
    for (int i = 0; i < 100; i++) {
        char name[64];
        snprintf(name, sizeof name, "memtop_no_such_symbol_%d", i);
        if (dlsym(RTLD_DEFAULT, name)) return 2;
        if (i % 3 == 0) dlerror();
        char *p = malloc(100 + i);
        *(volatile char *)p = 1;
        free(p);
    }
    if (dlopen("libmemtop-no-such-library.so", RTLD_NOW)) return 2;
    step("survived");
    return 0;
}

/* Under a preloaded allocator of the program's own (heapcount_bumpalloc.c): every entry
 * point must hand out that allocator's blocks, through the counter. */
static int owner(void) {
    int (*owns)(const void *) = (int (*)(const void *))dlsym(RTLD_DEFAULT, "bump_owns");
    if (!owns) return 2;
    step("start");                 /* stdio has its buffers from here on */
    void *p[9];
    p[0] = malloc(100);
    p[1] = calloc(10, 10);
    p[2] = realloc(malloc(50), 100);
    p[3] = memalign(64, 100);
    p[4] = aligned_alloc(64, 128);
    if (posix_memalign(&p[5], 64, 100)) p[5] = NULL;
    p[6] = valloc(100);
    p[7] = reallocarray(NULL, 10, 10);
    p[8] = strdup("glibc allocates inside strdup");
    int n = 0;
    for (int i = 0; i < 9; i++) n += p[i] && owns(p[i]);
    printf("owned %d/9\n", n);
    fflush(stdout);
    step("checked");
    for (int i = 0; i < 9; i++) free(p[i]);
    step("freed");
    return 0;
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "leak")) return leak();
    if (!strcmp(mode, "xthread")) return xthread();
    if (!strcmp(mode, "many")) return many();
    if (!strcmp(mode, "detached")) return detached();
    if (!strcmp(mode, "fork")) return forked();
    if (!strcmp(mode, "exec")) return execs(argv[0]);
    if (!strcmp(mode, "wait")) return waiter();
    if (!strcmp(mode, "dlsym")) return failing_dlsym();
    if (!strcmp(mode, "owner")) return owner();
    if (!strcmp(mode, "_exit")) return quick_exit_();
    if (!strcmp(mode, "execfail")) return exec_fails();
    if (!strcmp(mode, "rawexec")) return raw_exec(argv[0]);
    if (!strcmp(mode, "idle")) { step("running"); return 0; }
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
}
