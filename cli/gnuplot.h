// Drawing PNGs with gnuplot (`seqrl plot`, `seqrl table --png`): the script goes to a temporary
// file, the picture to a temporary PNG renamed over `out` only when gnuplot succeeded, so a
// failed plot leaves the old file intact and the error is one line.
#pragma once
#include <string>
#include <vector>

namespace seqrl::cli {

// Quotes text as a gnuplot string literal.
std::string gp_quote(const std::string& s);

// A scratch folder for data files that the script reads; removed with the object.
class PlotScratch {
 public:
  PlotScratch();
  ~PlotScratch();
  PlotScratch(const PlotScratch&) = delete;
  PlotScratch& operator=(const PlotScratch&) = delete;
  // Writes `content` to a new file in the folder; returns its path.
  std::string write(const std::string& name, const std::string& content);

 private:
  std::string dir_;
};

// Runs `script` (which must `set output` to the path it is given via `{OUTPUT}`) and writes `out`.
// Throws seqrl::Error naming `out` and gnuplot's last message line.
void render_png(const std::string& script_with_output, const std::string& out);

}  // namespace seqrl::cli
