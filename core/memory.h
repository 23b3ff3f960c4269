// This machine's memory, for refusing sizes no run here could hold before allocating them.
#pragma once
#include <cstdint>
#include <string>

namespace seqrl {

// Physical memory in bytes (a huge value if the system does not say).
int64_t physical_memory_bytes();
// "1.5 GiB"
std::string gib_text(double bytes);

}  // namespace seqrl
