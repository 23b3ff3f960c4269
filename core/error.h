// seqrl::Error — the one way a user-facing failure leaves the program.
// Thrown anywhere; caught in main(), printed as one line, mapped to an exit code:
// 1 for bad input (files, keys, values), 2 for usage errors (command line), 130 for Ctrl-C.
#pragma once
#include <stdexcept>
#include <string>

namespace seqrl {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what, int exit_code = 1) : std::runtime_error(what), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

class UsageError : public Error {
 public:
  explicit UsageError(const std::string& what) : Error(what, 2) {}
};

// A deliberate stop (Ctrl-C): exit 130, printed as a notice, not as an error.
class Interrupted : public Error {
 public:
  explicit Interrupted(const std::string& what) : Error(what, 130) {}
};

}  // namespace seqrl
