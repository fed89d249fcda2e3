// Plots drawn by gnuplot (Debian's gnuplot-nox), run as a child process on a script and its
// data files in a temporary folder, returning the SVG it wrote. gnuplot is a separate program,
// not a library, so a crash or a missing installation costs the report, never the search.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace hf {

struct GnuplotFigure {
  std::string script;  // gnuplot commands after the terminal and output are set
  std::vector<std::pair<std::string, std::string>> data_files;  // name (as the script uses it), contents
  int width = 760, height = 420;                                // pixels
};

// The figure as SVG text. Throws std::runtime_error naming the fix when gnuplot is not
// installed, and with gnuplot's message when it fails.
std::string render_svg(const GnuplotFigure& figure);

// gnuplot's string syntax for `text` (double quotes, backslashes and quotes escaped).
std::string gnuplot_quoted(const std::string& text);

}  // namespace hf
