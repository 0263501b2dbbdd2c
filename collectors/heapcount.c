/* heapcount: memtop's preloaded heap counter (LD_PRELOAD), built by memtop.preload.
 *
 * Wraps the malloc family, forwards every call to the next allocator in line and
 * publishes "bytes handed out and not taken back" (malloc_usable_size of each live
 * block) in $MEMTOP_HEAP_DIR/memtop-heap.<pid> (default /dev/shm), format version 1: the
 * contract with memtop's reader, a 64-byte header and 255 per-thread slots of 64 bytes
 * (struct heapfile below). Design and pitfalls measured in shared/research/feasibility.md A1:
 *  - The real functions come from dlsym(RTLD_NEXT), never __libc_malloc: a program that
 *    brings jemalloc/tcmalloc keeps its allocator (__libc_* would mix two allocators).
 *  - dlsym itself allocates, and on glibc 2.36 a lazy per-call dlsym recursed until the
 *    stack overflowed (free -> dlsym -> _dlerror_run -> free ...). So everything is
 *    resolved once (in the constructor, or on the first call if another library's
 *    constructor allocates before ours), and calls made while resolving are served from
 *    a static bootstrap buffer; those blocks are never passed to the real free.
 *  - Shared atomic counters cost +111..130 % on 2 threads (cache-line ping-pong); each
 *    thread owns one slot and is its only writer (relaxed stores, no RMW). Initial-exec
 *    TLS, because general-dynamic TLS calls __tls_get_addr on every access.
 *  - A thread that only frees must still be folded at exit (the prototype lost 320 KiB):
 *    any counted operation registers the thread-exit destructor.
 *  - fork: the MAP_SHARED page would be shared with the child, so the child makes its
 *    own file. exec keeps pid and starttime, so the file goes just before exec (and
 *    before _exit, which skips the destructor); LD_PRELOAD is inherited unless
 *    MEMTOP_HEAP_INHERIT=0.
 *  - The file is written whole and rename()d into place, never truncated while someone
 *    may map it (a reader touching truncated pages dies of SIGBUS).
 * Whatever fails (no /dev/shm, EACCES, ENOSPC, RLIMIT_FSIZE), the program runs on and the
 * counts stay in private memory.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NSLOTS 255
#define PEAK_STEP (1 << 20)          /* peak is re-summed after 1 MiB of net growth per thread */
#define BOOT_SIZE (256 * 1024)

struct slot {                        /* one cache line, one writer (slot 0: atomic RMW only) */
    int64_t live;
    uint64_t nalloc, nfree;
    uint32_t tid, pad0;
    uint64_t pad[4];
};
struct heapfile {
    char magic[8];
    uint32_t version, source, pid, nslots;
    uint64_t starttime, peak;
    uint32_t used_slots, flags;
    uint64_t generation, reserved;
    struct slot slot[NSLOTS];
};
_Static_assert(sizeof(struct slot) == 64, "slot is one cache line");
_Static_assert(sizeof(struct heapfile) == 16384, "file layout version 1");

#define LD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define ST(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define ADD(x, v) __atomic_fetch_add(&(x), (v), __ATOMIC_RELAXED)
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Counts live here until the file exists (or for good, if it cannot be made): the
 * constructor copies them into the file, so early allocations are not lost. */
static struct heapfile private_file __attribute__((aligned(64))) = {.used_slots = 1};
static struct heapfile *hf = &private_file;
static struct heapfile *mapped;      /* this process's file, NULL if none */
static char path[PATH_MAX];
static dev_t file_dev;
static ino_t file_ino;
static uint8_t slot_taken[NSLOTS];   /* in-process, so a reader cannot confuse claiming */
static uint32_t inherit_flags;

static void *(*real_malloc)(size_t);
static void (*real_free)(void *);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void *(*real_memalign)(size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_valloc)(size_t);
static void *(*real_pvalloc)(size_t);
static size_t (*real_usable)(void *);
static int ready;                    /* 0 unresolved, 1 resolving, 2 resolved */

/* ---- bootstrap buffer: serves calls made before/while the real functions resolve ---- */
static char boot_buf[BOOT_SIZE] __attribute__((aligned(64)));
static size_t boot_used;

static int is_boot(const void *p) {
    return (const char *)p >= boot_buf && (const char *)p < boot_buf + BOOT_SIZE;
}
static void *boot_alloc(size_t n, size_t align) {
    if (align < 16) align = 16;
    while (align & (align - 1)) align += align & -align;  /* memalign(3): next power of two */
    if (n > BOOT_SIZE || align > BOOT_SIZE / 4) return NULL;
    size_t old = LD(boot_used), start, end;
    do {                             /* never reused, so it is still zero: calloc-safe */
        start = (old + 16 + align - 1) & ~(align - 1);
        end = start + ((n + 15) & ~(size_t)15);
        if (end > BOOT_SIZE) { errno = ENOMEM; return NULL; }
    } while (!__atomic_compare_exchange_n(&boot_used, &old, end, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    *(size_t *)(boot_buf + start - sizeof(size_t)) = n;
    return boot_buf + start;
}
static size_t boot_size(const void *p) { return *(const size_t *)((const char *)p - sizeof(size_t)); }

static int resolve_slow(void);
static inline int resolve(void) {   /* inlined: the hot path pays one load, no call */
    return likely(__atomic_load_n(&ready, __ATOMIC_ACQUIRE) == 2) || resolve_slow();
}
static int resolve_slow(void) {
    int s = 0;                           /* the first caller resolves; nested or racing calls use boot_buf */
    if (!__atomic_compare_exchange_n(&ready, &s, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) return 0;
    real_malloc = dlsym(RTLD_NEXT, "malloc");
    real_free = dlsym(RTLD_NEXT, "free");
    real_calloc = dlsym(RTLD_NEXT, "calloc");
    real_realloc = dlsym(RTLD_NEXT, "realloc");
    real_memalign = dlsym(RTLD_NEXT, "memalign");
    real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
    real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    real_valloc = dlsym(RTLD_NEXT, "valloc");
    real_pvalloc = dlsym(RTLD_NEXT, "pvalloc");
    real_usable = dlsym(RTLD_NEXT, "malloc_usable_size");
    if (!real_malloc || !real_free || !real_calloc || !real_realloc || !real_usable || !real_memalign) {
        return 0;                    /* stays "resolving" forever: boot_buf until it runs out */
    }
    __atomic_store_n(&ready, 2, __ATOMIC_RELEASE);
    return 1;
}

/* ---- per-thread slot ---- */
enum { T_NEW = 0, T_SLOT, T_SHARED };  /* T_SHARED: atomic adds to slot 0 (no slot, or exited) */
struct tstate { int64_t live, mark; uint64_t nalloc, nfree; uint32_t idx; uint8_t mode, keyed; };
static __thread struct tstate T __attribute__((tls_model("initial-exec")));
static pthread_key_t exit_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static int key_ok;

static void raise_used(uint32_t n) {
    uint32_t cur = LD(hf->used_slots);
    while (cur < n && !__atomic_compare_exchange_n(&hf->used_slots, &cur, n, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
}
static void peak_check(struct tstate *t) {
    struct heapfile *f = hf;
    uint32_t n = LD(f->used_slots);
    int64_t sum = 0;
    for (uint32_t i = 0; i < n && i < NSLOTS; i++) sum += LD(f->slot[i].live);
    uint64_t cur = LD(f->peak);
    while (sum > 0 && (uint64_t)sum > cur &&
           !__atomic_compare_exchange_n(&f->peak, &cur, (uint64_t)sum, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
    t->mark = t->live;
}
/* pthread key destructor: the thread is exiting; hand its counts to slot 0, free the slot. */
static void thread_exit(void *unused) {
    (void)unused;
    struct tstate *t = &T;
    if (t->mode == T_SLOT) {
        struct slot *s = &hf->slot[t->idx], *z = &hf->slot[0];
        ADD(z->live, t->live); ADD(z->nalloc, t->nalloc); ADD(z->nfree, t->nfree);
        ST(s->live, 0); ST(s->nalloc, 0); ST(s->nfree, 0);
        __atomic_store_n(&s->tid, 0, __ATOMIC_RELEASE);
        __atomic_store_n(&slot_taken[t->idx], 0, __ATOMIC_RELEASE);
    }
    t->mode = T_SHARED;              /* later frees (other destructors, TLS teardown) go to slot 0 */
    t->live = t->mark = 0;
}
static void make_key(void) { key_ok = pthread_key_create(&exit_key, thread_exit) == 0; }

/* A thread whose first counted call comes after the key destructors ran (glibc freeing a
 * detached thread's DTV at its very end) claims a slot that is never folded. When no slot
 * is free, fold and free those whose thread no longer exists (tgkill: ESRCH), at most once
 * a second: with more than 254 live threads each new one would pay 254 syscalls. */
static void reclaim_dead_slots(void) {
    static int64_t last;
    struct timespec now;
    int saved = errno;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
    int64_t prev = LD(last);
    if (now.tv_sec <= prev || !__atomic_compare_exchange_n(&last, &prev, (int64_t)now.tv_sec, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        return;
    pid_t pid = getpid();
    for (uint32_t i = 1; i < NSLOTS; i++) {
        struct slot *s = &hf->slot[i], *z = &hf->slot[0];
        uint32_t tid = LD(s->tid);
        uint8_t taken = 1;
        if (!tid || syscall(SYS_tgkill, pid, tid, 0) == 0 || errno != ESRCH ||
            !__atomic_compare_exchange_n(&slot_taken[i], &taken, 2, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            continue;
        if (LD(s->tid) == tid) {     /* still the dead thread's: nobody else writes it */
            ADD(z->live, LD(s->live)); ADD(z->nalloc, LD(s->nalloc)); ADD(z->nfree, LD(s->nfree));
            ST(s->live, 0); ST(s->nalloc, 0); ST(s->nfree, 0); ST(s->tid, 0);
            __atomic_store_n(&slot_taken[i], 0, __ATOMIC_RELEASE);
        } else {
            __atomic_store_n(&slot_taken[i], 1, __ATOMIC_RELEASE);
        }
    }
    errno = saved;
}

static int claim_slot(struct tstate *t) {
    for (uint32_t i = 1; i < NSLOTS; i++) {
        uint8_t free_ = 0;
        if (LD(slot_taken[i]) == 0 &&
            __atomic_compare_exchange_n(&slot_taken[i], &free_, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
            t->idx = i;
            t->live = t->mark = 0; t->nalloc = t->nfree = 0;
            ST(hf->slot[i].tid, (uint32_t)syscall(SYS_gettid));
            raise_used(i + 1);
            t->mode = T_SLOT;
            return 1;
        }
    }
    return 0;
}

static void thread_start(struct tstate *t) {
    t->mode = T_SHARED;
    pthread_once(&key_once, make_key);
    if (!key_ok) return;             /* no exit hook: a slot would leak, so share slot 0 */
    if (!claim_slot(t)) {
        reclaim_dead_slots();
        claim_slot(t);
    }
    if (t->mode == T_SLOT && !t->keyed) {
        t->keyed = 1;                /* before the call: pthread_setspecific may itself calloc */
        pthread_setspecific(exit_key, (void *)1);
    }
}

/* Count one operation: +bytes/nalloc for a new block, -bytes/nfree for a freed one. */
static void record_slow(struct tstate *t, int64_t d, uint64_t na, uint64_t nf);
static inline void record(int64_t d, uint64_t na, uint64_t nf) {
    struct tstate *t = &T;
    if (unlikely(t->mode != T_SLOT)) { record_slow(t, d, na, nf); return; }
    struct slot *s = &hf->slot[t->idx];
    t->live += d;
    if (na) ST(s->nalloc, t->nalloc += na);
    if (nf) ST(s->nfree, t->nfree += nf);
    ST(s->live, t->live);
    if (unlikely(t->live - t->mark > PEAK_STEP)) peak_check(t);
    else if (t->live < t->mark) t->mark = t->live;   /* growth counts from the low point */
}
static void record_slow(struct tstate *t, int64_t d, uint64_t na, uint64_t nf) {
    if (t->mode == T_NEW) {
        thread_start(t);
        if (t->mode == T_SLOT) { record(d, na, nf); return; }
    }
    struct slot *z = &hf->slot[0];
    ADD(z->live, d); ADD(z->nalloc, na); ADD(z->nfree, nf);
    t->live += d;
    if (t->live - t->mark > PEAK_STEP) peak_check(t);
    else if (t->live < t->mark) t->mark = t->live;
}
#define COUNT_NEW(p) do { if (p) record((int64_t)real_usable(p), 1, 0); } while (0)

/* ---- the wrappers ---- */
void *malloc(size_t n) {
    if (unlikely(!resolve())) return boot_alloc(n, 16);
    void *p = real_malloc(n);
    COUNT_NEW(p);
    return p;
}
void free(void *p) {
    if (!p || is_boot(p)) return;    /* bootstrap blocks are never given back */
    if (unlikely(!resolve())) return; /* only reachable inside resolve(): leak, never recurse */
    record(-(int64_t)real_usable(p), 0, 1);
    real_free(p);
}
void *calloc(size_t n, size_t size) {
    if (unlikely(!resolve())) {
        size_t bytes;
        if (__builtin_mul_overflow(n, size, &bytes)) { errno = ENOMEM; return NULL; }
        return boot_alloc(bytes, 16);
    }
    void *p = real_calloc(n, size);
    COUNT_NEW(p);
    return p;
}
void *realloc(void *p, size_t n) {
    if (!p) return malloc(n);
    if (is_boot(p) || unlikely(!resolve())) {
        if (!is_boot(p)) return NULL; /* unreachable in practice (see free) */
        void *q = malloc(n);
        if (q) memcpy(q, p, boot_size(p) < n ? boot_size(p) : n);
        return q;
    }
    int64_t old = (int64_t)real_usable(p);
    void *q = real_realloc(p, n);
    if (q) record((int64_t)real_usable(q) - old, 1, 1);
    else if (n == 0) record(-old, 0, 1);  /* glibc: realloc(p, 0) frees p and returns NULL */
    return q;
}
void *reallocarray(void *p, size_t n, size_t size) {
    size_t bytes;
    if (__builtin_mul_overflow(n, size, &bytes)) { errno = ENOMEM; return NULL; }
    return realloc(p, bytes);
}
void *memalign(size_t align, size_t n) {
    if (unlikely(!resolve())) return boot_alloc(n, align);
    void *p = real_memalign(align, n);
    COUNT_NEW(p);
    return p;
}
void *aligned_alloc(size_t align, size_t n) {
    if (unlikely(!resolve())) return boot_alloc(n, align);
    void *p = real_aligned_alloc ? real_aligned_alloc(align, n) : real_memalign(align, n);
    COUNT_NEW(p);
    return p;
}
int posix_memalign(void **out, size_t align, size_t n) {
    if (align % sizeof(void *) || (align & (align - 1)) || !align) return EINVAL;
    void *p;
    if (unlikely(!resolve())) {
        p = boot_alloc(n, align);
        if (!p) return ENOMEM;
        *out = p;
        return 0;
    }
    if (real_posix_memalign) {
        int rc = real_posix_memalign(&p, align, n);
        if (rc) return rc;
    } else if (!(p = real_memalign(align, n))) {
        return ENOMEM;
    }
    COUNT_NEW(p);
    *out = p;
    return 0;
}
void *valloc(size_t n) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (unlikely(!resolve())) return boot_alloc(n, page);
    void *p = real_valloc ? real_valloc(n) : real_memalign(page, n);
    COUNT_NEW(p);
    return p;
}
void *pvalloc(size_t n) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t rounded = (n + page - 1) & ~(page - 1);
    if (unlikely(!resolve())) return boot_alloc(rounded ? rounded : page, page);
    void *p = real_pvalloc ? real_pvalloc(n) : real_memalign(page, rounded ? rounded : page);
    COUNT_NEW(p);
    return p;
}
size_t malloc_usable_size(void *p) {
    if (!p) return 0;
    if (is_boot(p)) return boot_size(p);  /* the real one would read a foreign header */
    return resolve() ? real_usable(p) : 0;
}

/* ---- the file ---- */
static uint64_t read_starttime(void) {
    /* field 22 of /proc/self/stat, counted after the ')' that ends comm (comm may hold spaces) */
    char buf[1024];
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p) return 0;
    for (int field = 2; field < 22 && *p; p++)
        if (*p == ' ') field++;
    return strtoull(p, NULL, 10);
}

/* Write `content` (header and slots, magic included) as memtop-heap.<pid> and map it
 * (at `at`, MAP_FIXED, when given). The file is written whole under a temporary name and
 * rename()d over the old one, never truncated in place: whoever still maps the old inode
 * (memtop's reader, or a process of the same pid number in another pid namespace sharing
 * /dev/shm) would take SIGBUS on pages cut off by a truncate. Returns NULL on any failure. */
static struct heapfile *publish(const struct heapfile *content, void *at) {
    struct rlimit lim;               /* past RLIMIT_FSIZE, fallocate/pwrite raise SIGXFSZ: a kill */
    if (getrlimit(RLIMIT_FSIZE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < sizeof *content)
        return NULL;
    size_t slash = (size_t)(strrchr(path, '/') - path);
    char tmp[PATH_MAX];
    if (strlen(path) + 9 >= sizeof tmp) return NULL;
    memcpy(tmp, path, slash + 1);    /* <dir>/.memtop-heap.<pid>.XXXXXX: not a name readers look for */
    tmp[slash + 1] = '.';
    strcpy(tmp + slash + 2, path + slash + 1);
    strcat(tmp, ".XXXXXX");
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat st;
    void *m = MAP_FAILED;
    /* posix_fallocate, not a sparse file: a full tmpfs fails here (ENOSPC), not later as
     * SIGBUS on a store into the mapping. */
    if (posix_fallocate(fd, 0, sizeof *content) == 0 && fchmod(fd, 0644) == 0 &&
        pwrite(fd, content, sizeof *content, 0) == (ssize_t)sizeof *content && fstat(fd, &st) == 0 &&
        rename(tmp, path) == 0) {
        m = mmap(at, sizeof *content, PROT_READ | PROT_WRITE, MAP_SHARED | (at ? MAP_FIXED : 0), fd, 0);
        if (m == MAP_FAILED) unlink(path);
    } else {
        unlink(tmp);
    }
    close(fd);
    if (m == MAP_FAILED) return NULL;
    file_dev = st.st_dev;
    file_ino = st.st_ino;
    return m;
}

/* Make memtop-heap.<pid> from the counts gathered so far (hf is private_file here), and
 * switch to it. An old file of that name (pid reuse after a crash) lends its generation. */
static void open_file(void) {
    const char *dir = getenv("MEMTOP_HEAP_DIR");
    if (!dir || !*dir) dir = "/dev/shm";
    char num[16];
    int k = sizeof num;
    num[--k] = 0;
    for (unsigned pid = (unsigned)getpid(); pid || k == (int)sizeof num - 1; pid /= 10) num[--k] = (char)('0' + pid % 10);
    /* A relative MEMTOP_HEAP_DIR is taken from the cwd now: the program may chdir before
     * its destructor unlinks the file. */
    size_t cl = 0;
    if (dir[0] != '/') {
        if (!getcwd(path, sizeof path)) return;
        cl = strlen(path);
        path[cl++] = '/';
    }
    size_t dl = strlen(dir), nl = strlen(num + k);
    if (cl + dl + nl + 14 >= sizeof path) return;
    memcpy(path + cl, dir, dl);
    memcpy(path + cl + dl, "/memtop-heap.", 13);
    memcpy(path + cl + dl + 13, num + k, nl + 1);

    uint64_t gen = 0;
    char head[56];
    /* /dev/shm is everyone's: another user may have put a FIFO here (an open without
     * O_NONBLOCK would wait for a writer forever, before main) or a file of theirs. Only a
     * regular file of ours lends its generation (issue 13); rename() replaces either. */
    int old = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (old >= 0) {
        struct stat ost;
        if (fstat(old, &ost) == 0 && S_ISREG(ost.st_mode) && ost.st_uid == geteuid() &&
            pread(old, head, sizeof head, 0) == (ssize_t)sizeof head && memcmp(head, "MEMTHEAP", 8) == 0)
            memcpy(&gen, head + 48, 8);
        close(old);
    }
    struct heapfile *f = &private_file;
    memcpy(f->magic, "MEMTHEAP", 8);
    f->version = 1;
    f->source = 1;
    f->pid = (uint32_t)getpid();
    f->nslots = NSLOTS;
    f->starttime = read_starttime();
    f->flags = inherit_flags;
    f->generation = gen + 1;
    struct heapfile *m = publish(f, NULL);
    if (!m) return;
    mapped = m;
    __atomic_store_n(&hf, m, __ATOMIC_RELEASE);
}

/* exec replaces the image but keeps the pid, and starttime: a file left behind would look
 * valid for whatever runs next, though a static or setuid program, or one started with
 * MEMTOP_HEAP_INHERIT=0, never counts into it. So the file is unlinked just before exec
 * (an instrumented image makes a fresh one) and put back, same contents, if exec fails
 * (dash tries execve once per PATH entry). Only this pid's own file: a vfork child
 * shares our memory but not our pid. */
static int exec_prepare(void) {
    struct stat st;
    if (!mapped || mapped->pid != (uint32_t)getpid() || stat(path, &st) != 0 ||
        st.st_dev != file_dev || st.st_ino != file_ino)
        return 0;
    return unlink(path) == 0;
}
static void exec_failed(int unlinked) {
    int saved = errno;
    /* Mapped over the old mapping's address: no pointer changes, nothing leaks. */
    if (unlinked) publish(mapped, mapped);
    errno = saved;
}
typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*execv_fn)(const char *, char *const[]);
typedef int (*fexecve_fn)(int, char *const[], char *const[]);
typedef int (*execveat_fn)(int, const char *, char *const[], char *const[], int);
static execve_fn next_execve, next_execvpe;
static execv_fn next_execv, next_execvp;
static fexecve_fn next_fexecve;
static execveat_fn next_execveat;
typedef void (*exit_fn)(int);
static exit_fn next__exit, next__Exit;
/* Resolved in the constructor, so that a vfork child (which shares our memory and may not
 * call malloc) finds them ready; looked up on first use only if that was missed. */
#define NEXT(name, type) if (!next_##name) next_##name = (type)dlsym(RTLD_NEXT, #name)
static void resolve_exec(void) {
    NEXT(execve, execve_fn); NEXT(execvpe, execve_fn); NEXT(execv, execv_fn);
    NEXT(execvp, execv_fn); NEXT(fexecve, fexecve_fn); NEXT(execveat, execveat_fn);
    NEXT(_exit, exit_fn); NEXT(_Exit, exit_fn);
}
#define FORWARD(name, type, ...) do { \
        NEXT(name, type); \
        if (!next_##name) { errno = ENOSYS; return -1; } \
        int unlinked = exec_prepare(); \
        int rc = next_##name(__VA_ARGS__); \
        exec_failed(unlinked); \
        return rc; \
    } while (0)

int execve(const char *file, char *const argv[], char *const envp[]) { FORWARD(execve, execve_fn, file, argv, envp); }
int execv(const char *file, char *const argv[]) { FORWARD(execv, execv_fn, file, argv); }
int execvp(const char *file, char *const argv[]) { FORWARD(execvp, execv_fn, file, argv); }
int execvpe(const char *file, char *const argv[], char *const envp[]) { FORWARD(execvpe, execve_fn, file, argv, envp); }
int fexecve(int fd, char *const argv[], char *const envp[]) { FORWARD(fexecve, fexecve_fn, fd, argv, envp); }
int execveat(int dirfd, const char *file, char *const argv[], char *const envp[], int flags) {
    FORWARD(execveat, execveat_fn, dirfd, file, argv, envp, flags);
}
/* _exit skips the destructor, and shells end that way (dash, so every system() and
 * popen() child): remove the file first. Same pid check as exec: a vfork child calls
 * _exit after a failed exec, and the file it would see is its parent's. */
static void heapcount_fini(void);
void _exit(int status) {
    heapcount_fini();
    if (!next__exit) next__exit = (exit_fn)dlsym(RTLD_NEXT, "_exit");
    if (next__exit) next__exit(status);
    for (;;) syscall(SYS_exit_group, status);
}
void _Exit(int status) {
    heapcount_fini();
    if (!next__Exit) next__Exit = (exit_fn)dlsym(RTLD_NEXT, "_Exit");
    if (next__Exit) next__Exit(status);
    for (;;) syscall(SYS_exit_group, status);
}

/* execl, execle, execlp: glibc runs its internal __execve, not the wrappers above. */
#define COLLECT_ARGS(first, ap, argv, envp_out) \
    size_t n = 1; va_start(ap, first); while (va_arg(ap, char *)) n++; va_end(ap); \
    char *argv[n + 1]; argv[0] = (char *)first; va_start(ap, first); \
    for (size_t i = 1; i <= n; i++) argv[i] = va_arg(ap, char *); \
    envp_out; va_end(ap);
int execl(const char *file, const char *arg, ...) {
    va_list ap;
    COLLECT_ARGS(arg, ap, argv, (void)0);
    return execv(file, argv);
}
int execlp(const char *file, const char *arg, ...) {
    va_list ap;
    COLLECT_ARGS(arg, ap, argv, (void)0);
    return execvp(file, argv);
}
int execle(const char *file, const char *arg, ...) {
    va_list ap;
    char **envp;
    COLLECT_ARGS(arg, ap, argv, envp = va_arg(ap, char **));
    return execve(file, argv, envp);
}

/* fork: the child must not write into the parent's MAP_SHARED page. It starts its own
 * file with the parent's totals at fork in slot 0 (it inherited those blocks). */
static void atfork_child(void) {
    struct heapfile *parent = hf;
    int64_t live = 0;
    uint64_t na = 0, nf = 0;
    uint32_t n = LD(parent->used_slots);
    for (uint32_t i = 0; i < n && i < NSLOTS; i++) {
        live += LD(parent->slot[i].live);
        na += LD(parent->slot[i].nalloc);
        nf += LD(parent->slot[i].nfree);
    }
    memset(&private_file, 0, sizeof private_file);
    private_file.slot[0].live = live;
    private_file.slot[0].nalloc = na;
    private_file.slot[0].nfree = nf;
    private_file.used_slots = 1;
    private_file.peak = live > 0 ? (uint64_t)live : 0;  /* the child's own peak starts here */
    memset(slot_taken, 0, sizeof slot_taken);
    hf = &private_file;
    struct tstate *t = &T;           /* the only thread left; it keeps its pthread key */
    t->mode = T_NEW;
    t->live = t->mark = 0;
    t->nalloc = t->nfree = 0;
    if (mapped) munmap(mapped, sizeof(struct heapfile));
    mapped = NULL;
    open_file();
}

/* MEMTOP_HEAP_INHERIT=0: drop our own entry from LD_PRELOAD (others stay), so the
 * programs this one execs are not instrumented. */
static void strip_preload(void) {
    const char *v = getenv("LD_PRELOAD");
    Dl_info info;
    if (!v || !dladdr((void *)&strip_preload, &info) || !info.dli_fname) return;
    const char *me = info.dli_fname, *base = strrchr(me, '/') ? strrchr(me, '/') + 1 : me;
    struct stat mst, est;
    int have_me = stat(me, &mst) == 0;
    size_t len = strlen(v);
    char *out = malloc(len + 1), *entry = malloc(len + 1);
    if (!out || !entry) { free(out); free(entry); return; }
    size_t o = 0;
    for (const char *p = v; *p;) {
        size_t el = strcspn(p, " :");
        if (el) {
            memcpy(entry, p, el);
            entry[el] = 0;
            int mine = strcmp(entry, me) == 0 || (!strchr(entry, '/') && strcmp(entry, base) == 0) ||
                       (have_me && stat(entry, &est) == 0 && est.st_dev == mst.st_dev && est.st_ino == mst.st_ino);
            if (!mine) {
                if (o) out[o++] = ':';
                memcpy(out + o, entry, el);
                o += el;
            }
        }
        p += el;
        if (*p) p++;
    }
    out[o] = 0;
    if (o) setenv("LD_PRELOAD", out, 1);
    else unsetenv("LD_PRELOAD");
    free(out);
    free(entry);
}

/* A second copy of this library (another build, preloaded too) must not open the same
 * file: the first copy in the lookup order counts every call, the second one forwards.
 * The exported pointer is interposed like any default-visibility symbol, so every copy
 * reads the first copy's value; only the first finds its own static marker there. */
static char instance_marker;
void *memtop_heapcount_instance = &instance_marker;

__attribute__((constructor)) static void heapcount_init(void) {
    if (!resolve()) return;
    resolve_exec();
    if (memtop_heapcount_instance != &instance_marker) return;
    const char *inherit = getenv("MEMTOP_HEAP_INHERIT");
    if (inherit && strcmp(inherit, "0") == 0) {
        strip_preload();
        inherit_flags = 1;
    }
    pthread_atfork(NULL, NULL, atfork_child);
    open_file();
}

/* Normal exit: remove our file, if it is still ours (same pid, same inode). Never unmap:
 * other threads may still be allocating while the process exits. */
__attribute__((destructor)) static void heapcount_fini(void) {
    struct stat st;
    if (mapped && mapped->pid == (uint32_t)getpid() && stat(path, &st) == 0 &&
        st.st_dev == file_dev && st.st_ino == file_ino)
        unlink(path);
}
