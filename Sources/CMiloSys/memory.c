#define _GNU_SOURCE
#include "CMiloSys.h"

#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Drops one read-only file mapping's resident pages; they fault back in from the page cache. */
static void release_mapping(unsigned long start, unsigned long end, int executable) {
  /* Pages fault back one at a time (no readahead), and code with small pages, not huge ones. */
  madvise((void *)start, end - start, MADV_RANDOM);
  if (executable) madvise((void *)start, end - start, MADV_NOHUGEPAGE);
  madvise((void *)start, end - start, MADV_DONTNEED);
}

void milo_release_startup_memory(void) {
  /* smaps tells, per mapping, whether any page is a private copy ("Anonymous": relocated data,
     a GOT the dynamic linker wrote): such a mapping keeps its pages, as dropping them would
     bring back the file's unrelocated contents. Code and unmodified read-only data go.
     (Private_Dirty is no guide: it also counts page-cache pages not yet written back.) */
  FILE *smaps = fopen("/proc/self/smaps", "re");
  if (!smaps) return;
  char line[PATH_MAX + 128];
  unsigned long start = 0, end = 0;
  int candidate = 0, executable = 0;
  while (fgets(line, sizeof line, smaps)) {
    unsigned long a, b;
    char perms[5];
    char path[PATH_MAX];
    path[0] = 0;
    if (sscanf(line, "%lx-%lx %4s %*s %*s %*s %4095s", &a, &b, perms, path) >= 3 &&
        strchr(line, '-') < strchr(line, ' ')) {
      start = a;
      end = b;
      executable = perms[2] == 'x';
      /* File-backed, not writable. */
      candidate = path[0] == '/' && perms[1] != 'w';
      continue;
    }
    unsigned long kb;
    if (candidate && sscanf(line, "Anonymous: %lu kB", &kb) == 1 && kb > 0) candidate = 0;
    /* A private copy that was swapped out is no longer "Anonymous" but still one. */
    if (candidate && sscanf(line, "Swap: %lu kB", &kb) == 1 && kb > 0) candidate = 0;
    /* VmFlags is the last field of each mapping. */
    if (strncmp(line, "VmFlags:", 8) == 0 && candidate) {
      release_mapping(start, end, executable);
      candidate = 0;
    }
  }
  fclose(smaps);
  malloc_trim(0);
}
