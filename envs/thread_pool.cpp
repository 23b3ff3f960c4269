#include "envs/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <utility>

namespace seqrl {
namespace {

// Polls `done` for up to this long before the caller blocks. Each poll yields the core, so
// with more threads than cores (a shared machine) the spinning gives way to working threads.
constexpr std::chrono::microseconds kSpin{100};

template <typename Done>
bool spin_until(const Done& done) {
  const auto deadline = std::chrono::steady_clock::now() + kSpin;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

}  // namespace

ThreadPool::ThreadPool(int threads) {
  for (int part = 1; part < std::max(threads, 1); ++part) workers_.emplace_back([this, part] { work(part); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::call(int part) {
  try {
    (*job_)(part);
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!error_) error_ = std::current_exception();
  }
}

void ThreadPool::work(int part) {
  unsigned long seen = 0;
  for (;;) {
    auto woken = [&] { return stop_.load() || generation_.load(std::memory_order_acquire) != seen; };
    if (!spin_until(woken)) {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, woken);
    }
    if (stop_) return;
    seen = generation_.load(std::memory_order_acquire);
    call(part);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mutex_);  // the caller may be between its check and its wait
      finished_.notify_one();
    }
  }
}

void ThreadPool::run(const std::function<void(int part)>& fn) {
  job_ = &fn;
  error_ = nullptr;
  pending_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    generation_.fetch_add(1, std::memory_order_release);  // publishes job_ and pending_
  }
  wake_.notify_all();
  call(0);
  auto all_done = [&] { return pending_.load(std::memory_order_acquire) == 0; };
  if (!spin_until(all_done)) {
    std::unique_lock<std::mutex> lock(mutex_);
    finished_.wait(lock, all_done);
  }
  job_ = nullptr;
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

}  // namespace seqrl
