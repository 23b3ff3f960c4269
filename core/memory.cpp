#include "core/memory.h"

#include <unistd.h>

#include <cstdio>

namespace seqrl {

int64_t physical_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? int64_t(pages) * int64_t(page) : int64_t(1) << 62;
}

std::string gib_text(double bytes) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3g GiB", bytes / double(int64_t(1) << 30));
  return buf;
}

}  // namespace seqrl
