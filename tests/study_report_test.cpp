// `hyperfuse report`: the HTML names every plot and embeds each as an SVG image (no file or link
// outside it), the validation panel appears only when the results have validation columns, the
// command writes one file or refuses a missing study, and headless Chromium lays out every plot
// and draws each into a canvas with ink on it, and takes a screenshot. Skipped where gnuplot is
// not installed; the browser test also where Chromium is not, unless CI=true or
// HYPERFUSE_REQUIRE_BROWSER=1 (scripts/run_tests.sh installs it), where that is a failure.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "host/run/run_search.hpp"
#include "host/study_report/results_table.hpp"
#include "host/study_report/study_report.hpp"
#include "tests/hyperfuse_process.hpp"
#include "tests/result_files.hpp"
#include "tests/search_fixtures.hpp"
#include "tests/test_paths.hpp"

namespace hf {
namespace {

namespace fs = std::filesystem;
using testing::read_text;
using testing::write_text;

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE((haystack).find(needle), std::string::npos) << "expected '" << (needle) << "' in:\n" << (haystack)

bool on_path(const std::string& program) {
  return std::system(("command -v " + program + " >/dev/null 2>&1").c_str()) == 0;
}

std::string base64_decoded(const std::string& text) {
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    if (c >= '0' && c <= '9') v = c - '0' + 52;
    if (c == '+') v = 62;
    if (c == '/') v = 63;
    if (v < 0) continue;
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return out;
}

// A finished search of 6 combinations x 3 reruns, made once for the suite, in a shared folder.
class StudyReportTest : public ::testing::Test {
 protected:
  // One study per process: ctest runs each test in a process of its own, in parallel, and each
  // process sets the suite up; a folder shared between processes would be removed under another.
  static fs::path shared() {
    return fs::temp_directory_path() / "hyperfuse-tests" / ("StudyReport-shared-" + std::to_string(getpid()));
  }
  static void TearDownTestSuite() { fs::remove_all(shared()); }

  static void SetUpTestSuite() {
    fs::remove_all(shared());
    testing::write_synthetic_data(shared(), 400, 200);
    write_text(shared() / "search.toml", R"([data]
train = "train.csv"
test = "test.csv"
[search]
rerun_count = 3
seed = 12
[execution]
device = "cpu"
cpu_count = 2
[output]
dir = "study"
keep_models = 1
[hyperparameters]
learning_rate = [0.01, 0.002, 0.0005]
optimizer = ["Adam", "SGD"]
max_epochs = [3]
hidden_layers = [[1, 0.5]]
)");
    run_search(load_search_config(shared() / "search.toml"), {}, nullptr, nullptr);
  }

  void SetUp() override {
    if (!on_path("gnuplot")) GTEST_SKIP() << "gnuplot is not installed (apt-get install gnuplot-nox)";
  }

  static fs::path study() { return shared() / "study"; }
};

TEST_F(StudyReportTest, TheHtmlNamesEveryPlotAndEmbedsItAsAnSvgImage) {
  const StudyReport report = make_study_report(study());
  std::vector<std::string> titles;
  for (const ReportPlot& plot : report.plots) titles.push_back(plot.title);
  EXPECT_EQ(titles,
            (std::vector<std::string>{"Distribution of median log10 p-values", "log10 p by learning_rate",
                                      "log10 p by optimizer", "Reruns of the best 6", "Training loss of the winner"}));
  const std::string& html = report.html;
  // Every <img>: its alt text and its data URI (std::regex recurses too deep for these).
  const std::string image = "<img alt=\"", data = "\" src=\"data:image/svg+xml;base64,";
  std::size_t images = 0;
  for (std::size_t at = html.find(image); at != std::string::npos; at = html.find(image, at + 1), ++images) {
    ASSERT_LT(images, report.plots.size());
    const std::size_t alt = at + image.size(), alt_end = html.find('"', alt);
    EXPECT_EQ(html.substr(alt, alt_end - alt), report.plots[images].title);
    ASSERT_EQ(html.compare(alt_end, data.size(), data), 0) << "the image is a data URI";
    const std::size_t start = alt_end + data.size(), end = html.find('"', start);
    const std::string svg = base64_decoded(html.substr(start, end - start));
    EXPECT_EQ(svg, report.plots[images].svg) << "the image is the plot gnuplot drew";
    EXPECT_CONTAINS(svg, "<svg");
    EXPECT_CONTAINS(svg, "</svg>");
  }
  EXPECT_EQ(images, report.plots.size());
  for (const ReportPlot& plot : report.plots) {
    EXPECT_CONTAINS(html, "<h2 id=\"" + plot.id + "\">" + plot.title + "</h2>");
    EXPECT_CONTAINS(html, "<a href=\"#" + plot.id + "\">");
  }
  // Opens offline: nothing outside the file.
  for (const char* outside : {"http://", "https://", "<script", "<link", "src=\"file", "@import"})
    EXPECT_EQ(html.find(outside), std::string::npos) << outside;
  ASSERT_EQ(report.notes.size(), 2u);
  EXPECT_CONTAINS(report.notes[0], "One value only, so no panel: max_epochs = 3, hidden_layers = [1, 0.5]");
  EXPECT_CONTAINS(report.notes[1], "No validation against test panel");
}

TEST_F(StudyReportTest, AValidationPanelAppearsWhenTheResultsHaveValidationColumns) {
  const fs::path copy = testing::scratch_dir("study");
  for (const char* file : {"study.sqlite", "errors.csv"}) fs::copy_file(study() / file, copy / file);
  const ResultsTable table = read_results_table(study() / "hyperparameter_results.csv");
  std::string csv;
  for (const std::string& cell : table.header) csv += "\"" + cell + "\",";
  csv += "val_log10_p_value,test_log10_p_value\n";
  const int log10 = table.column("log10_p_value");
  for (std::size_t r = 0; r < table.rows.size(); ++r) {
    for (const std::string& cell : table.rows[r]) csv += "\"" + cell + "\",";
    csv += std::to_string(-0.5 * static_cast<double>(r)) + "," + table.rows[r][log10] + "\n";
  }
  write_text(copy / "hyperparameter_results.csv", csv);
  const StudyReport report = make_study_report(copy);
  ASSERT_EQ(report.plots.size(), 6u);
  EXPECT_EQ(report.plots[4].title, "Validation against test p-values");
  EXPECT_CONTAINS(report.plots[4].caption, "6 combinations");
  EXPECT_CONTAINS(report.html, "<h2 id=\"validation-test\">Validation against test p-values</h2>");
}

TEST_F(StudyReportTest, TheCommandWritesOneFileOrRefusesAMissingStudy) {
  const fs::path work = testing::scratch_dir("work"), captured = testing::scratch_dir("captured");
  testing::Outcome o =
      testing::run_hyperfuse(work, captured, {"report", "--study", study().string(), "--out", "r.html"});
  ASSERT_EQ(o.exit_code, 0) << o;
  EXPECT_CONTAINS(o.out, "Wrote r.html (5 plots)");
  EXPECT_CONTAINS(read_text(work / "r.html"), "<h1>hyperfuse search report</h1>");
  o = testing::run_hyperfuse(work, captured, {"report", "--study", "nowhere"});
  EXPECT_EQ(o.exit_code, 2) << o;
  EXPECT_CONTAINS(o.err, "nowhere: no such folder; give --study the output folder of a search");
  fs::create_directories(work / "empty");
  o = testing::run_hyperfuse(work, captured, {"report", "--study", "empty"});
  EXPECT_EQ(o.exit_code, 2) << o;
  EXPECT_CONTAINS(o.err, "empty/hyperparameter_results.csv: cannot open the search's results");
  EXPECT_FALSE(fs::exists(work / "empty" / "report.html"));
  o = testing::run_hyperfuse(work, captured, {"report", "--study", study().string(), "--out", "no/such/r.html"});
  EXPECT_EQ(o.exit_code, 2) << o;
  EXPECT_CONTAINS(o.err, "--out no/such/r.html: the folder no/such does not exist");
  EXPECT_EQ(std::distance(fs::directory_iterator(work), fs::directory_iterator{}), 2) << "only r.html and empty/";
}

std::string chromium() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"})
    if (on_path(name)) return name;
  return "";
}

// Whether a missing browser fails the test: in CI (which installs it) and where asked to.
bool browser_required() {
  const char* ci = std::getenv("CI");
  const char* required = std::getenv("HYPERFUSE_REQUIRE_BROWSER");
  return (ci != nullptr && std::string(ci) == "true") || (required != nullptr && std::string(required) == "1");
}

TEST_F(StudyReportTest, HeadlessChromiumDrawsEveryPlotAndTakesAScreenshot) {
  const std::string browser = chromium();
  if (browser.empty()) {
    if (browser_required())
      FAIL() << "CI=true or HYPERFUSE_REQUIRE_BROWSER=1, but no Chromium on the PATH "
                "(scripts/run_tests.sh installs it: apt-get install chromium)";
    GTEST_SKIP() << "no headless Chromium here (apt-get install chromium)";
  }
  const fs::path dir = testing::scratch_dir("browser");
  const StudyReport report = make_study_report(study());
  // A copy that reports in its title, for every image, its decoded size, its size in the page's
  // layout, and how many pixels of it are dark once the browser has drawn it onto a white canvas
  // (a plot that decodes but draws nothing, or is hidden, shows as 0).
  std::string probe = report.html;
  probe.insert(probe.rfind("</body>"),
               "<script>window.addEventListener('load', () => { const images = [...document.images]; "
               "const drawn = images.map(i => { const c = document.createElement('canvas'); "
               "c.width = i.naturalWidth; c.height = i.naturalHeight; const g = c.getContext('2d'); "
               "g.fillStyle = '#fff'; g.fillRect(0, 0, c.width, c.height); g.drawImage(i, 0, 0); "
               "const d = g.getImageData(0, 0, c.width, c.height).data; let dark = 0; "
               "for (let k = 0; k < d.length; k += 4) dark += d[k] + d[k + 1] + d[k + 2] < 384; "
               "const box = i.getBoundingClientRect(); "
               "return i.naturalWidth + 'x' + i.naturalHeight + ' shown ' + Math.round(box.width) + 'x' + "
               "Math.round(box.height) + ' dark ' + dark; }); "
               "document.title = 'images ' + images.length + ': ' + drawn.join('; '); });"
               "</script>\n");
  write_text(dir / "probe.html", probe);
  write_text(dir / "report.html", report.html);
  const std::string flags = " --headless --no-sandbox --disable-gpu --hide-scrollbars --virtual-time-budget=10000 ";
  const std::string dump = browser + flags + "--window-size=1000,3600 --dump-dom file://" +
                           (dir / "probe.html").string() + " >" + (dir / "dom.html").string() + " 2>" +
                           (dir / "browser.log").string();
  ASSERT_EQ(std::system(dump.c_str()), 0) << read_text(dir / "browser.log");
  const std::string dom = read_text(dir / "dom.html");
  const std::size_t title = dom.find("<title>images "), title_end = dom.find("</title>", title);
  ASSERT_NE(title, std::string::npos) << "the probe did not run:\n" << dom.substr(0, 2000);
  const std::string drawn = dom.substr(title, title_end - title);
  EXPECT_CONTAINS(drawn, "<title>images " + std::to_string(report.plots.size()) + ": ");
  // Each plot: 760x420 decoded and laid out at that size, and ink on at least 1% of its pixels
  // (these five: 1.7% to 2.7%; an image that draws nothing has none).
  std::size_t plots = 0;
  for (std::size_t at = drawn.find("760x420 shown 760x420 dark "); at != std::string::npos;
       at = drawn.find("760x420 shown 760x420 dark ", at + 1), ++plots) {
    const long dark = std::atol(drawn.c_str() + at + std::string("760x420 shown 760x420 dark ").size());
    EXPECT_GT(dark, 760 * 420 / 100) << "plot " << plots << " is (nearly) blank: " << drawn;
  }
  EXPECT_EQ(plots, report.plots.size()) << drawn;

  const std::string shot = browser + flags + "--window-size=1000,3600 --screenshot=" + (dir / "report.png").string() +
                           " file://" + (dir / "report.html").string() + " >>" + (dir / "browser.log").string() +
                           " 2>&1";
  ASSERT_EQ(std::system(shot.c_str()), 0) << read_text(dir / "browser.log");
  const std::string png = read_text(dir / "report.png");
  ASSERT_GT(png.size(), 24u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  const auto big_endian = [&](std::size_t at) {
    return (static_cast<unsigned char>(png[at]) << 24) | (static_cast<unsigned char>(png[at + 1]) << 16) |
           (static_cast<unsigned char>(png[at + 2]) << 8) | static_cast<unsigned char>(png[at + 3]);
  };
  EXPECT_EQ(big_endian(16), 1000u) << "the screenshot's width";
  EXPECT_EQ(big_endian(20), 3600u) << "the screenshot's height";
}

}  // namespace
}  // namespace hf
