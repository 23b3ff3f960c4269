#include "cli/gnuplot.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"

namespace seqrl::cli {
namespace fs = std::filesystem;
namespace {

// The last non-empty line of `text`, trimmed (gnuplot's error comes last).
std::string last_line(const std::string& text) {
  std::istringstream in(text);
  std::string last = "no message";
  for (std::string line; std::getline(in, line);) {
    const auto b = line.find_first_not_of(" \t"), e = line.find_last_not_of(" \t\r");
    if (b != std::string::npos) last = line.substr(b, e - b + 1);
  }
  return last;
}

}  // namespace

std::string gp_quote(const std::string& s) {
  std::string q = "'";
  for (char ch : s) q += ch == '\'' ? std::string("''") : std::string(1, ch);
  return q + "'";
}

PlotScratch::PlotScratch() {
  char tmpl[] = "/tmp/seqrl_plot_XXXXXX";
  if (!::mkdtemp(tmpl)) throw Error("plot: cannot create a temporary folder in /tmp");
  dir_ = tmpl;
}

PlotScratch::~PlotScratch() {
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string PlotScratch::write(const std::string& name, const std::string& content) {
  const auto path = (fs::path(dir_) / name).string();
  write_file_atomic(path, content);
  return path;
}

void render_png(const std::string& script_with_output, const std::string& out) {
  PlotScratch scratch;
  const auto tmp = out + ".tmp.png";
  std::string script = script_with_output;
  for (size_t at; (at = script.find("{OUTPUT}")) != std::string::npos;) script.replace(at, 8, gp_quote(tmp));
  const auto script_path = scratch.write("plot.gp", script);
  // gnuplot's stdout (where it draws when the output file cannot be opened) is dropped and its
  // messages are read back, so a failure is one line, not a PNG on the terminal.
  std::string messages;
  int status = -1;
  if (FILE* pipe = ::popen(("gnuplot " + script_path + " 2>&1 >/dev/null").c_str(), "r")) {
    char buf[4096];
    while (size_t n = std::fread(buf, 1, sizeof buf, pipe)) messages.append(buf, n);
    status = ::pclose(pipe);
  }
  if (status != 0 || !fs::exists(tmp)) {
    std::error_code ec;
    fs::remove(tmp, ec);
    if (status == -1 || (WIFEXITED(status) && WEXITSTATUS(status) == 127))
      throw Error("plot: cannot run gnuplot (install gnuplot-nox; scripts/setup.sh does)");
    throw Error("plot: gnuplot failed writing " + out + ": " + last_line(messages));
  }
  fs::rename(tmp, out);
}

}  // namespace seqrl::cli
