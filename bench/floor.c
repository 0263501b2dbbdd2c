/* floor: the same-files C floor of bench/collect.py - every file one memtop snapshot reads,
 * opened, read until EOF and closed, with no parsing.
 *
 * Usage: floor -l HOSTLIST -f smaps_rollup,stat,status,... [-n PASSES] [-q]
 *   -l  a file of host files, one absolute path a line, as recorded from one
 *       Collector.collect() (the files it opens that are not under /proc/<pid>/:
 *       /proc/meminfo, /proc/vmstat, /proc/pressure/memory, /proc/loadavg,
 *       /proc/self/status, /proc/self/mountinfo, /sys/kernel/mm/transparent_hugepage/...).
 *       A line "@pids" marks where, in that order, the per-pid loop runs (default: after
 *       the last host file); empty lines are ignored. A host file that fails to open is
 *       counted in host_failed (memtop tried it too).
 *   -f  comma-separated per-pid files, read for every numeric entry of /proc in this order;
 *       a pid's other files are skipped after its first file that fails or is empty (the
 *       semantics of shared/bench-peers/proc_read -s): with smaps_rollup first a kernel thread
 *       costs one open (ESRCH), as memtop reads only its stat; with cmdline last a zombie stops
 *       there.
 *   -n  number of passes (default 1)
 *   -q  print nothing; otherwise one line per pass on stdout (fields of proc_read's, then more):
 *       pass=K pids=P files=F failed=E bytes=B wall_ns=W cpu_ns=C host_files=H host_failed=HF
 *       files/failed count the per-pid opens, host_files/host_failed the host ones, bytes both;
 *       cpu_ns is this process's CPU (CLOCK_PROCESS_CPUTIME_ID) over the whole pass.
 *
 * Build: gcc -O2 -o floor floor.c
 * Per-pid files are opened with openat(/proc fd, "<pid>/<file>") as memtop does; host files
 * with open(absolute path). Each is read with read(2) into a 1 MiB buffer until EOF, then closed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAXF 16
static char buf[1 << 20];
static const char *files[MAXF];
static int nfiles;
static char **host;      /* host paths in order; NULL entry = the per-pid loop */
static int nhost, quiet;

static long long now_ns(clockid_t c) {
    struct timespec ts;
    clock_gettime(c, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* read one file (relative to dirfd unless absolute) until EOF; bytes or -1 when it fails */
static long read_file(int dirfd, const char *path) {
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    long total = 0;
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0) { if (errno == EINTR) continue; total = total ? total : -1; break; }
        if (r == 0) break;
        total += r;
    }
    close(fd);
    return total;
}

struct counts { long pids, nread, failed, hread, hfailed, bytes; };

static void per_pid(struct counts *c) {
    char path[320];
    int procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (procfd < 0) { perror("/proc"); exit(1); }
    DIR *d = fdopendir(dup(procfd));
    if (!d) { perror("fdopendir"); exit(1); }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        c->pids++;
        for (int i = 0; i < nfiles; i++) {
            snprintf(path, sizeof path, "%s/%s", e->d_name, files[i]);
            long b = read_file(procfd, path);
            if (b < 0) c->failed++; else { c->nread++; c->bytes += b; }
            if (b <= 0) break;
        }
    }
    closedir(d);
    close(procfd);
}

static void one_pass(int k) {
    long long w0 = now_ns(CLOCK_MONOTONIC), c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
    struct counts c = {0};
    int did_pids = 0;
    for (int i = 0; i < nhost; i++) {
        if (!host[i]) { per_pid(&c); did_pids = 1; continue; }
        long b = read_file(AT_FDCWD, host[i]);
        if (b < 0) c.hfailed++; else { c.hread++; c.bytes += b; }
    }
    if (!did_pids) per_pid(&c);
    long long w1 = now_ns(CLOCK_MONOTONIC), c1 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
    if (!quiet) {
        printf("pass=%d pids=%ld files=%ld failed=%ld bytes=%ld wall_ns=%lld cpu_ns=%lld "
               "host_files=%ld host_failed=%ld\n",
               k, c.pids, c.nread, c.failed, c.bytes, w1 - w0, c1 - c0, c.hread, c.hfailed);
        fflush(stdout);
    }
}

static void load_host_list(const char *listfile) {
    FILE *f = fopen(listfile, "r");
    if (!f) { perror(listfile); exit(2); }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int have_marker = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (n == 0) continue;
        int marker = !strcmp(line, "@pids");
        if (marker && have_marker) continue;
        if (!marker && line[0] != '/') {
            fprintf(stderr, "%s: not an absolute path: %s\n", listfile, line);
            exit(2);
        }
        host = realloc(host, sizeof *host * (size_t)(nhost + 1));
        if (!host) { perror("realloc"); exit(2); }
        host[nhost++] = marker ? NULL : strdup(line);
        have_marker |= marker;
    }
    free(line);
    fclose(f);
}

int main(int argc, char **argv) {
    int passes = 1, opt;
    char *flist = NULL;
    const char *listfile = NULL;
    while ((opt = getopt(argc, argv, "l:f:n:qh")) != -1) {
        switch (opt) {
        case 'l': listfile = optarg; break;
        case 'f': flist = strdup(optarg); break;
        case 'n': passes = atoi(optarg); break;
        case 'q': quiet = 1; break;
        default:
            fprintf(stderr, "usage: %s -l HOSTLIST -f smaps_rollup,stat,... [-n PASSES] [-q]\n", argv[0]);
            return opt == 'h' ? 0 : 2;
        }
    }
    if (!listfile || !flist) {
        fprintf(stderr, "%s: -l HOSTLIST and -f FILES are required\n", argv[0]);
        return 2;
    }
    for (char *s = strtok(flist, ","); s && nfiles < MAXF; s = strtok(NULL, ","))
        files[nfiles++] = s;
    load_host_list(listfile);
    for (int k = 0; k < passes; k++) one_pass(k);
    return 0;
}
