// hf::load_labelled_csv: what it reads from a valid file, the formatting it tolerates, and the
// message for every kind of bad input (file, line, column where there is one, and a hint).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "host/common/errors.hpp"
#include "host/data/labelled_table.hpp"
#include "tests/test_paths.hpp"

namespace hf {
namespace {

using testing::scratch_dir;
using testing::write_text;

// Writes `text` to a fresh data.csv and loads it.
LabelledTable load_text(const std::string& text) {
  const std::filesystem::path path = scratch_dir("data") / "data.csv";
  write_text(path, text);
  return load_labelled_csv(path);
}

// Loads `path`, which must fail with InputError; returns its message ("" if it did not fail).
std::string error_loading(const std::filesystem::path& path) {
  try {
    load_labelled_csv(path);
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << path << " loaded without an InputError";
  return "";
}

// The error for a file holding `text`, with the file's path, for checking the location.
struct LoadFailure {
  std::string path;
  std::string message;
};

LoadFailure error_for_text(const std::string& text) {
  const std::filesystem::path path = scratch_dir("bad") / "bad.csv";
  write_text(path, text);
  return {path.string(), error_loading(path)};
}

// The message starts with "file:line:" (and ":column" when given) as compilers write it, so
// editors can jump to the cell.
void expect_located(const LoadFailure& failure, int line, int column) {
  std::string where = failure.path + ":" + std::to_string(line) + ":";
  if (column > 0) where += std::to_string(column) + ":";
  EXPECT_EQ(failure.message.rfind(where, 0), 0u)
      << "expected the message to start with '" << where << "': " << failure.message;
}

TEST(LabelledTable, ReadsValuesRowsFeaturesAndLabels) {
  const LabelledTable t = load_text("0.9617,1.5,-2,1\n3e-2,0,7.25,0\n");
  EXPECT_EQ(t.rows, 2);
  EXPECT_EQ(t.features, 3);
  EXPECT_EQ(t.values, (std::vector<double>{0.9617, 1.5, -2.0, 0.03, 0.0, 7.25}));
  EXPECT_EQ(t.labels, (std::vector<float>{1.0f, 0.0f}));
  EXPECT_EQ(t.source.filename(), "data.csv");
}

TEST(LabelledTable, ReadsALastLineWithoutNewline) {
  const LabelledTable t = load_text("1,2,0\n3,4,1");
  EXPECT_EQ(t.rows, 2);
  EXPECT_EQ(t.values, (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(t.labels, (std::vector<float>{0.0f, 1.0f}));
}

TEST(LabelledTable, ReadsASingleFeature) {
  const LabelledTable t = load_text("5.5,1\n");
  EXPECT_EQ(t.rows, 1);
  EXPECT_EQ(t.features, 1);
  EXPECT_EQ(t.values, (std::vector<double>{5.5}));
  EXPECT_EQ(t.labels, (std::vector<float>{1.0f}));
}

TEST(LabelledTable, ToleratesCrlfLineEndings) {
  const LabelledTable t = load_text("1,2,0\r\n3,4,1\r\n");
  EXPECT_EQ(t.rows, 2);
  EXPECT_EQ(t.features, 2);
  EXPECT_EQ(t.values, (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(t.labels, (std::vector<float>{0.0f, 1.0f}));
}

TEST(LabelledTable, ToleratesAUtf8ByteOrderMark) {
  const LabelledTable t = load_text(
      "\xEF\xBB\xBF"
      "1.25,2,1\n3,4,0\n");
  EXPECT_EQ(t.rows, 2);
  EXPECT_EQ(t.values, (std::vector<double>{1.25, 2, 3, 4}));
  EXPECT_EQ(t.labels, (std::vector<float>{1.0f, 0.0f}));
}

TEST(LabelledTable, SkipsBlankLines) {
  const LabelledTable t = load_text("\n1,2,0\n\n   \n\t\n3,4,1\n\n\n");
  EXPECT_EQ(t.rows, 2);
  EXPECT_EQ(t.values, (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(t.labels, (std::vector<float>{0.0f, 1.0f}));
}

TEST(LabelledTable, ToleratesSpacesAroundCells) {
  const LabelledTable t = load_text("  1 ,\t2.5\t, 0 \n 3,  4 ,1  \n");
  EXPECT_EQ(t.rows, 2);
  EXPECT_EQ(t.features, 2);
  EXPECT_EQ(t.values, (std::vector<double>{1, 2.5, 3, 4}));
  EXPECT_EQ(t.labels, (std::vector<float>{0.0f, 1.0f}));
}

TEST(LabelledTable, AcceptsLabelsWrittenAsFloats) {
  const LabelledTable t = load_text("1,0.0\n2,1.0\n3,1.00\n4,0e0\n");
  EXPECT_EQ(t.rows, 4);
  EXPECT_EQ(t.labels, (std::vector<float>{0.0f, 1.0f, 1.0f, 0.0f}));
}

TEST(LabelledTable, ToleratesEverythingAtOnce) {
  const LabelledTable t = load_text("\xEF\xBB\xBF\r\n 1 , 2 ,1.0\r\n\r\n3,4, 0.0 \r\n");
  EXPECT_EQ(t.rows, 2);
  EXPECT_EQ(t.features, 2);
  EXPECT_EQ(t.values, (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(t.labels, (std::vector<float>{1.0f, 0.0f}));
}

TEST(LabelledTable, MissingFileNamesTheFileAndTheConfigKey) {
  const std::filesystem::path path = scratch_dir("missing") / "no-such-file.csv";
  const std::string message = error_loading(path);
  EXPECT_NE(message.find(path.string()), std::string::npos) << message;
  EXPECT_NE(message.find("cannot open"), std::string::npos) << message;
  EXPECT_NE(message.find("[data]"), std::string::npos) << "hint names the config section: " << message;
}

TEST(LabelledTable, EmptyFileNamesTheFileWithAHint) {
  const LoadFailure failure = error_for_text("");
  EXPECT_EQ(failure.message.rfind(failure.path + ":", 0), 0u) << failure.message;
  EXPECT_NE(failure.message.find("no rows"), std::string::npos) << failure.message;
  EXPECT_NE(failure.message.find("0/1 label"), std::string::npos) << "hint says what a row holds: " << failure.message;
}

TEST(LabelledTable, FileOfBlankLinesIsEmpty) {
  const LoadFailure failure = error_for_text("\n\r\n   \n\t\n");
  EXPECT_EQ(failure.message.rfind(failure.path + ":", 0), 0u) << failure.message;
  EXPECT_NE(failure.message.find("no rows"), std::string::npos) << failure.message;
}

TEST(LabelledTable, ByteOrderMarkAloneIsEmpty) {
  const LoadFailure failure = error_for_text("\xEF\xBB\xBF");
  EXPECT_NE(failure.message.find("no rows"), std::string::npos) << failure.message;
}

TEST(LabelledTable, SingleColumnRowNeedsAFeatureAndALabel) {
  const LoadFailure failure = error_for_text("\n0.5\n1,0\n");
  expect_located(failure, 2, 0);
  EXPECT_NE(failure.message.find("1 column"), std::string::npos) << failure.message;
  EXPECT_NE(failure.message.find("label"), std::string::npos) << "hint: " << failure.message;
}

TEST(LabelledTable, SingleColumnRowAfterGoodRowsIsRagged) {
  const LoadFailure failure = error_for_text("1,2,0\n1\n");
  expect_located(failure, 2, 0);
  EXPECT_NE(failure.message.find("has 1 columns but the first row has 3"), std::string::npos) << failure.message;
}

TEST(LabelledTable, RowWithMoreColumnsNamesItsLine) {
  const LoadFailure failure = error_for_text("1,2,0\n3,4,1\n\n5,6,7,1\n");
  expect_located(failure, 4, 0);
  EXPECT_NE(failure.message.find("4 columns"), std::string::npos) << failure.message;
  EXPECT_NE(failure.message.find("first row has 3"), std::string::npos) << failure.message;
  EXPECT_NE(failure.message.find("same number"), std::string::npos) << "hint: " << failure.message;
}

TEST(LabelledTable, RowWithFewerColumnsNamesItsLine) {
  const LoadFailure failure = error_for_text("1,2,0\r\n3,1\r\n");
  expect_located(failure, 2, 0);
  EXPECT_NE(failure.message.find("2 columns"), std::string::npos) << failure.message;
  EXPECT_NE(failure.message.find("first row has 3"), std::string::npos) << failure.message;
}

TEST(LabelledTable, LineNumbersCountTheByteOrderMarkLineAsLineOne) {
  const LoadFailure failure = error_for_text(
      "\xEF\xBB\xBF"
      "1,2,0\n1,2\n");
  expect_located(failure, 2, 0);
}

struct BadCell {
  const char* text;
  int line;
  int column;
  const char* shown;    // how the message quotes the cell
  const char* problem;  // what the message says is wrong
};

class LabelledTableBadCell : public ::testing::TestWithParam<BadCell> {};

TEST_P(LabelledTableBadCell, NamesLineColumnCellAndFix) {
  const BadCell& bad = GetParam();
  const LoadFailure failure = error_for_text(bad.text);
  expect_located(failure, bad.line, bad.column);
  EXPECT_NE(failure.message.find("column " + std::to_string(bad.column)), std::string::npos) << failure.message;
  EXPECT_NE(failure.message.find(bad.shown), std::string::npos) << failure.message;
  EXPECT_NE(failure.message.find(bad.problem), std::string::npos) << failure.message;
}

INSTANTIATE_TEST_SUITE_P(LabelledTableNotANumber, LabelledTableBadCell,
                         ::testing::Values(BadCell{"1,2,0\n3,abc,1\n", 2, 2, "'abc'",
                                                   "is not a number; every cell must be a plain number"},
                                           BadCell{"1,2,0\n\n1.2.3,4,1\n", 3, 1, "'1.2.3'", "is not a number"},
                                           BadCell{"1,2,0\n3,,1\n", 2, 2, "''", "is not a number"},
                                           BadCell{"1,2,0\n3,4,\n", 2, 3, "''", "is not a number"},
                                           BadCell{"1,2,0\n3,4 5,1\n", 2, 2, "'4 5'", "is not a number"},
                                           BadCell{"1,2,0\n0x10,4,1\n", 2, 1, "'0x10'", "is not a number"},
                                           BadCell{"1,2,0\n3,4,yes\n", 2, 3, "'yes'", "is not a number"}));

INSTANTIATE_TEST_SUITE_P(
    LabelledTableNotFinite, LabelledTableBadCell,
    ::testing::Values(BadCell{"1,2,0\n3,nan,1\n", 2, 2, "'nan'", "is not a finite number; replace or drop this row"},
                      BadCell{"1,2,0\nNaN,4,1\n", 2, 1, "'NaN'", "is not a finite number"},
                      BadCell{"1,2,0\n3,inf,1\n", 2, 2, "'inf'", "is not a finite number"},
                      BadCell{"1,2,0\n3,-inf,1\n", 2, 2, "'-inf'", "is not a finite number"},
                      BadCell{"1,2,0\n3,Infinity,1\n", 2, 2, "'Infinity'", "is not a finite number"},
                      BadCell{"1,2,0\n3,4,nan\n", 2, 3, "'nan'", "is not a finite number"}));

INSTANTIATE_TEST_SUITE_P(
    LabelledTableLabelNotZeroOrOne, LabelledTableBadCell,
    ::testing::Values(BadCell{"1,2,0\n3,4,2\n", 2, 3, "'2'",
                              "(the label): '2' is not 0 or 1; the last column must hold the 0/1 label"},
                      BadCell{"1,2,0.5\n", 1, 3, "'0.5'", "is not 0 or 1"},
                      BadCell{"1,2,0\n\n\n3,4,-1\n", 4, 3, "'-1'", "is not 0 or 1"},
                      BadCell{"1,2,0\n3,4,1.0001\n", 2, 3, "'1.0001'", "is not 0 or 1"}));

// Regression: "+-1" was once read as -1 (the '+' was stripped and from_chars took the '-').
TEST(LabelledTable, SignWrittenTwiceIsNotANumber) {
  const LoadFailure failure = error_for_text("1,2,0\n+-1,2,0\n");
  expect_located(failure, 2, 1);
  EXPECT_NE(failure.message.find("'+-1' is not a number"), std::string::npos) << failure.message;
}

TEST(LabelledTable, LeadingPlusSignIsAccepted) {
  const LabelledTable t = load_text("+1.5,+2,+1\n");
  EXPECT_EQ(t.values, (std::vector<double>{1.5, 2.0}));
  EXPECT_EQ(t.labels, (std::vector<float>{1.0f}));
}

TEST(LabelledTable, HeaderRowIsNamedAsAHeader) {
  const LoadFailure failure = error_for_text("feature_a,feature_b,label\n1,2,0\n");
  expect_located(failure, 1, 1);
  EXPECT_NE(failure.message.find("'feature_a'"), std::string::npos) << failure.message;
  EXPECT_NE(failure.message.find("header"), std::string::npos) << failure.message;
  EXPECT_NE(failure.message.find("delete it"), std::string::npos) << "hint: " << failure.message;
}

TEST(LabelledTable, HeaderRowAfterByteOrderMarkAndBlankLinesIsNamedAsAHeader) {
  const LoadFailure failure = error_for_text("\xEF\xBB\xBF\r\n\r\nx1,x2,y\r\n1,2,0\r\n");
  expect_located(failure, 3, 1);
  EXPECT_NE(failure.message.find("header"), std::string::npos) << failure.message;
}

TEST(LabelledTable, NonNumericCellAfterTheFirstRowIsNotCalledAHeader) {
  const LoadFailure failure = error_for_text("1,2,0\nx1,x2,y\n");
  expect_located(failure, 2, 1);
  EXPECT_EQ(failure.message.find("header"), std::string::npos) << failure.message;
}

TEST(LabelledTable, LongBadCellIsShortenedInTheMessage) {
  const std::string cell(200, 'z');
  const LoadFailure failure = error_for_text("1,2,0\n" + cell + ",2,0\n");
  expect_located(failure, 2, 1);
  EXPECT_NE(failure.message.find("'" + std::string(40, 'z') + "...'"), std::string::npos) << failure.message;
  EXPECT_LT(failure.message.size(), 400u) << failure.message;
}

TEST(LabelledTable, ValueTooLargeForADoubleIsRejectedWithItsLocation) {
  const LoadFailure failure = error_for_text("1,2,0\n1e400,2,0\n");
  expect_located(failure, 2, 1);
  EXPECT_NE(failure.message.find("'1e400'"), std::string::npos) << failure.message;
}

TEST(LabelledTable, ValueTooLargeForADoubleSaysSo) {
  const LoadFailure failure = error_for_text("1,2,0\n2,-1" + std::string(400, '0') + ",1\n");
  expect_located(failure, 2, 2);
  EXPECT_NE(failure.message.find("is too large for a double"), std::string::npos) << failure.message;
  EXPECT_NE(failure.message.find("rescale this column"), std::string::npos) << "hint: " << failure.message;
}

// As Python's float(): a value too small for a double is 0, not an error.
TEST(LabelledTable, ValueTooSmallForADoubleReadsAsZero) {
  const LabelledTable t = load_text("1e-400,-1e-400,0\n2,3,1\n");
  EXPECT_EQ(t.values, (std::vector<double>{0.0, -0.0, 2.0, 3.0}));
}

// Spreadsheets and pandas (quoting=QUOTE_ALL) may quote every cell; a quoted number is that number.
TEST(LabelledTable, QuotedNumbersAreRead) {
  const LabelledTable t = load_text("\"1.5\",\" 2 \",\"0\"\r\n\"3\",4,\"1.0\"\r\n");
  EXPECT_EQ(t.rows, 2);
  EXPECT_EQ(t.values, (std::vector<double>{1.5, 2, 3, 4}));
  EXPECT_EQ(t.labels, (std::vector<float>{0.0f, 1.0f}));
}

TEST(LabelledTable, QuotedTextIsStillNotANumber) {
  const LoadFailure failure = error_for_text("1,2,0\n3,\"abc\",1\n");
  expect_located(failure, 2, 2);
  EXPECT_NE(failure.message.find("'\"abc\"' is not a number"), std::string::npos) << failure.message;
}

// "1,5" (a decimal comma) splits into two cells: the hint says what a quoted cell may hold.
TEST(LabelledTable, DecimalCommaInQuotesGetsAHint) {
  const LoadFailure failure = error_for_text("\"1,5\",2,0\n");
  expect_located(failure, 1, 1);
  EXPECT_NE(failure.message.find("'\"1' is not a number"), std::string::npos) << failure.message;
  EXPECT_NE(failure.message.find("dot as the decimal separator"), std::string::npos) << failure.message;
}

TEST(LabelledTable, TrailingCommaOnEveryRowSaysToRemoveIt) {
  const LoadFailure failure = error_for_text("1,2,0,\n3,4,1,\n");
  expect_located(failure, 1, 4);
  EXPECT_NE(failure.message.find("remove the trailing comma"), std::string::npos) << failure.message;
}

TEST(LabelledTable, TrailingCommaOnOneRowSaysToRemoveIt) {
  const LoadFailure failure = error_for_text("1,2,0\n3,4,1,\n");
  expect_located(failure, 2, 0);
  EXPECT_NE(failure.message.find("has 4 columns but the first row has 3"), std::string::npos) << failure.message;
  EXPECT_NE(failure.message.find("remove the trailing comma"), std::string::npos) << failure.message;
}

TEST(LabelledTable, EmptyCellInTheMiddleIsNamed) {
  const LoadFailure failure = error_for_text("1,2,0\n3,,1\n");
  expect_located(failure, 2, 2);
  EXPECT_NE(failure.message.find("the cell is empty"), std::string::npos) << failure.message;
}

// Bytes that are not UTF-8 (Latin-1, binary) are shown as \xNN, not sent raw to the terminal.
TEST(LabelledTable, NonUtf8BytesAreShownEscaped) {
  const LoadFailure failure = error_for_text("1,2,0\n1,\xff\xfe\x01x,0\n");
  expect_located(failure, 2, 2);
  EXPECT_NE(failure.message.find("'\\xff\\xfe\\x01x' is not a number"), std::string::npos) << failure.message;
}

TEST(LabelledTable, Utf8TextIsShownAsWritten) {
  const LoadFailure failure = error_for_text("1,2,0\n1,\xc3\xa9t\xc3\xa9,0\n");
  EXPECT_NE(failure.message.find("'\xc3\xa9t\xc3\xa9' is not a number"), std::string::npos) << failure.message;
}

TEST(LabelledTable, Utf16FileSaysToSaveAsUtf8) {
  const LoadFailure failure =
      error_for_text(std::string("\xff\xfe"
                                 "1\0,\0"
                                 "2\0,\0"
                                 "0\0\n\0",
                                 14));
  EXPECT_EQ(failure.message.rfind(failure.path + ": ", 0), 0u) << failure.message;
  EXPECT_NE(failure.message.find("UTF-16"), std::string::npos) << failure.message;
  EXPECT_NE(failure.message.find("save it as CSV in UTF-8"), std::string::npos) << failure.message;
}

TEST(LabelledTable, FolderIsNotADataFile) {
  const std::filesystem::path folder = scratch_dir("folder");
  const std::string message = error_loading(folder);
  EXPECT_NE(message.find(folder.string() + ": cannot open the data file"), std::string::npos) << message;
}

TEST(LabelledTable, BothLabelsPresentPasses) {
  EXPECT_NO_THROW(require_both_labels(load_text("1,0\n2,1\n3,0\n"), "training"));
}

TEST(LabelledTable, TrainingLabelsOfOneClassAreAnError) {
  const std::filesystem::path path = scratch_dir("one-class") / "train.csv";
  write_text(path, "1,2,0\n3,4,0.0\n5,6,0\n");
  const LabelledTable table = load_labelled_csv(path);
  try {
    require_both_labels(table, "training");
    ADD_FAILURE() << "a training set of label 0 only was accepted";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.rfind(path.string() + ": every label (the last column) is 0, in all 3 rows", 0), 0u) << message;
    EXPECT_NE(message.find("cannot learn anything"), std::string::npos) << message;
    EXPECT_NE(message.find("both classes"), std::string::npos) << message;
  }
}

TEST(LabelledTable, TestLabelsOfOneClassAreAnError) {
  try {
    require_both_labels(load_text("1,1\n"), "test");
    ADD_FAILURE() << "a test set of label 1 only was accepted";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("every label (the last column) is 1, in all 1 rows; the test data"), std::string::npos)
        << message;
    EXPECT_NE(message.find("p-value would be 1"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace hf
