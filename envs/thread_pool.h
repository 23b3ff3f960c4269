// A small persistent pool for data-parallel loops: `run(fn)` calls fn(0..size()-1) at once,
// part 0 on the caller and the rest on workers. Between calls the workers spin briefly, then
// sleep on a condition variable: a VecEnv step is ~50 µs of work per env, the same order as
// a futex wake-up, so back-to-back steps must not pay a sleep and a wake-up each.
#pragma once
#include <atomic>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace seqrl {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);  // >= 1; threads - 1 workers are started
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }
  // Blocks until every part has returned; rethrows the first exception a part threw.
  void run(const std::function<void(int part)>& fn);

 private:
  void work(int part);
  void call(int part);

  std::vector<std::thread> workers_;
  std::mutex mutex_;  // guards sleeping and waking; the counters below are read while spinning
  std::condition_variable wake_, finished_;
  const std::function<void(int)>* job_ = nullptr;
  std::atomic<unsigned long> generation_{0};  // bumped once per run()
  std::atomic<int> pending_{0};               // workers still inside this run's job
  std::atomic<bool> stop_{false};
  std::exception_ptr error_;
};

}  // namespace seqrl
