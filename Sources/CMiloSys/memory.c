#define _GNU_SOURCE
#include "CMiloSys.h"

#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void milo_release_startup_memory(void) {
  FILE *maps = fopen("/proc/self/maps", "re");
  if (!maps) return;
  char line[PATH_MAX + 128];
  while (fgets(line, sizeof line, maps)) {
    unsigned long start, end;
    char perms[5];
    char path[PATH_MAX];
    path[0] = 0;
    if (sscanf(line, "%lx-%lx %4s %*s %*s %*s %4095s", &start, &end, perms, path) < 3) continue;
    if (path[0] != '/') continue; /* [vdso], [stack], anonymous: not file-backed */
    /* Only code: read-only data may have been relocated at load time (RELRO), and dropping it
       would bring back the unrelocated file contents. */
    if (perms[2] != 'x' || perms[1] == 'w') continue;
    /* Code faults back in on use with small pages, not huge ones. */
    madvise((void *)start, end - start, MADV_NOHUGEPAGE);
    madvise((void *)start, end - start, MADV_DONTNEED);
  }
  fclose(maps);
  malloc_trim(0);
}
