// See bench/peak_memory.h.
#include "bench/peak_memory.h"

#include <fstream>
#include <sstream>
#include <string>

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#if SEQRL_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#endif

namespace seqrl::bench {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

// A "VmRSS:  1234 kB"-style field of /proc/self/status, in bytes.
std::optional<double> proc_status_bytes(const std::string& field) {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.compare(0, field.size() + 1, field + ":") != 0) continue;
    std::istringstream value(line.substr(field.size() + 1));
    double kib;
    if (value >> kib) return kib * 1024.0;
  }
  return std::nullopt;
}

// Writing "5" to clear_refs resets VmHWM (the peak resident set) to the current VmRSS.
bool reset_resident_peak() {
  std::ofstream clear_refs("/proc/self/clear_refs");
  clear_refs << "5";
  clear_refs.flush();
  return static_cast<bool>(clear_refs);
}

// CPU: VmHWM after the work minus VmRSS before it. Memory freed by earlier work but kept by
// malloc would be reused silently and hide this work's use, so it is returned to the OS first.
std::optional<double> resident_peak_mib_during(const std::function<void()>& work) {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
  if (!reset_resident_peak()) {
    work();
    return std::nullopt;
  }
  auto before = proc_status_bytes("VmRSS");
  work();
  auto peak = proc_status_bytes("VmHWM");
  if (!before || !peak) return std::nullopt;
  return (*peak - *before) / kMiB;
}

}  // namespace

std::optional<double> peak_mib_during(const torch::Device& device, const std::function<void()>& work) {
#if SEQRL_WITH_CUDA
  if (device.is_cuda()) {
    namespace allocator = c10::cuda::CUDACachingAllocator;
    const auto index = device.has_index() ? device.index() : c10::cuda::current_device();
    const auto before = allocator::getDeviceStats(index).allocated_bytes[0].current;  // [0]: all pools
    allocator::resetPeakStats(index);
    work();
    return double(allocator::getDeviceStats(index).allocated_bytes[0].peak - before) / kMiB;
  }
#endif
  if (!device.is_cpu()) {
    work();
    return std::nullopt;
  }
  return resident_peak_mib_during(work);
}

}  // namespace seqrl::bench
