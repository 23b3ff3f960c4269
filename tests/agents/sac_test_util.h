// Shared by the SAC and collector tests: run the built `seqrl` CLI on one thread.
#pragma once
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "dt_fixture.h"

namespace seqrl::testing {

struct CmdResult {
  int code;
  std::string out;  // stdout + stderr
};

// Runs `seqrl --threads 1 <args>`; one thread keeps the 2-core CI machine responsive.
inline CmdResult sh(const std::string& args) {
  CmdResult r;
  r.code = run_command(std::string(SEQRL_CLI) + " --threads 1 " + args, &r.out);
  return r;
}

}  // namespace seqrl::testing
