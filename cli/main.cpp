// seqrl: one executable; the commands live in the seqrl_cli library (cli/app.cpp).
#include "cli/command.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

int main(int argc, char** argv) {
#ifdef __GLIBC__
  // LibTorch's CPU allocator mallocs each op's output; a DT batch's activations are a few MB, which
  // glibc serves by mmap and unmaps on free, so every training step page-faults them in again
  // (30k faults/s, ~5 % of a step on one core). Serve blocks up to 32 MB (glibc's ceiling) from
  // the heap and keep freed memory: the process stays at its peak, which training reaches every
  // step anyway. bench/RESULTS.md, session 16.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
  return seqrl::cli::run(argc, argv);
}
