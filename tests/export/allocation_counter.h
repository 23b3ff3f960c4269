// Counts heap allocations (every form of the global operator new) made by this thread while a
// CountedAllocations is alive. The replacement operators live in allocation_counter.cpp and are
// linked into test_export only. The runtime allocates through operator new alone (std::vector,
// its aligned allocator, std::string), so a zero count means that acting did not allocate.
#pragma once

namespace seqrl::testing {

class CountedAllocations {
 public:
  CountedAllocations();
  ~CountedAllocations();
  CountedAllocations(const CountedAllocations&) = delete;
  CountedAllocations& operator=(const CountedAllocations&) = delete;
  long count() const;  // allocations since construction
};

}  // namespace seqrl::testing
