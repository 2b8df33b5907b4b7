/* `_dl_find_object` for musl, which gcc 12's unwinder (libgcc_eh.a) calls to find the
 * `.eh_frame_hdr` of the object holding an address; glibc 2.35 has it, musl does not.
 * scripts/dist links this beside libgcc_eh.a as the libunwind of a static musl zkelf.
 * The layout of `struct dl_find_object` is glibc's (x86_64 and aarch64). */
#define _GNU_SOURCE
#include <link.h>
#include <stdint.h>
#include <string.h>

struct dl_find_object {
  unsigned long long dlfo_flags;
  void *dlfo_map_start;
  void *dlfo_map_end;
  struct link_map *dlfo_link_map;
  void *dlfo_eh_frame;
  unsigned long long dlfo_reserved[7];
};

struct search {
  uintptr_t pc;
  uintptr_t start, end;
  void *eh_frame;
};

static int visit(struct dl_phdr_info *info, size_t size, void *data) {
  struct search *s = data;
  const ElfW(Phdr) *eh = NULL;
  uintptr_t lo = UINTPTR_MAX, hi = 0;
  int holds = 0;
  (void)size;
  for (size_t i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *p = &info->dlpi_phdr[i];
    if (p->p_type == PT_LOAD) {
      uintptr_t start = info->dlpi_addr + p->p_vaddr, end = start + p->p_memsz;
      if (s->pc >= start && s->pc < end) holds = 1;
      if (start < lo) lo = start;
      if (end > hi) hi = end;
    } else if (p->p_type == PT_GNU_EH_FRAME) {
      eh = p;
    }
  }
  if (!holds || eh == NULL) return 0;
  s->start = lo;
  s->end = hi;
  s->eh_frame = (void *)(info->dlpi_addr + eh->p_vaddr);
  return 1;
}

int _dl_find_object(void *pc, struct dl_find_object *result) {
  struct search s = {(uintptr_t)pc, 0, 0, NULL};
  if (dl_iterate_phdr(visit, &s) != 1) return -1;
  memset(result, 0, sizeof *result);
  result->dlfo_map_start = (void *)s.start;
  result->dlfo_map_end = (void *)s.end;
  result->dlfo_eh_frame = s.eh_frame;
  return 0;
}
