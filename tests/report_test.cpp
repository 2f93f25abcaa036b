// The output writers (src/report/): the one CSV writer against awkward cells, and the per-kind
// format tables that the CLI's --format choices come from.
#include <deepen/csv.h>
#include <deepen/error.h>
#include <deepen/train.h>
#include <deepen/writers.h>

#include "test_util.h"

#include <gtest/gtest.h>

#include <sstream>

using namespace deepen;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST(CsvWriter, QuotesOnlyCellsThatNeedIt) {
  EXPECT_EQ(csv_escape("conv-bn-relu"), "conv-bn-relu");
  EXPECT_EQ(csv_escape(""), "");
  EXPECT_EQ(csv_escape("hw=56 cin=64"), "hw=56 cin=64");
  EXPECT_EQ(csv_escape("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_escape("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_escape("\""), "\"\"\"\"");
  EXPECT_EQ(csv_escape("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_escape("carriage\rreturn"), "\"carriage\rreturn\"");
  EXPECT_EQ(csv_escape("end\r\n"), "\"end\r\n\"");
}

TEST(CsvWriter, RowsReadBackCellForCell) {
  const std::vector<std::string> cells = {"models/a,b.onnx", "conv \"1\"", "", "1.5", "\"", ",", "plain"};
  const std::string row = csv_row(cells);
  ASSERT_EQ(row.back(), '\n');
  EXPECT_EQ(split_csv_line(row.substr(0, row.size() - 1)), cells);
  EXPECT_EQ(csv_row({}), "\n");
  EXPECT_EQ(csv_row({"a", "b"}), "a,b\n");
}

// predict -f csv left a cell holding a CR unquoted (only comma, quote and LF were quoted), so a
// reader that ends lines at CR split the row.
TEST(CsvWriter, PredictCsvQuotesNamesWithCommaQuoteAndCr) {
  ModelReport bad;
  bad.model = "odd\r\"name\",v2.onnx";
  bad.error = "not a valid ONNX model, it says";
  ReportContext ctx;
  std::ostringstream out;
  write_csv(out, {bad}, ctx);
  const std::vector<std::string> lines = lines_of(out.str());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1], "\"odd\r\"\"name\"\",v2.onnx\",,,,,,,,,\"not a valid ONNX model, it says\",,,");
  EXPECT_EQ(split_csv_line(lines[1])[0], bad.model);
  EXPECT_EQ(split_csv_line(lines[1]).size(), split_csv_line(lines[0]).size());

  bad.model = "cr\ronly.onnx";  // the fix: no comma, quote nor LF, yet quoted
  std::ostringstream cr;
  write_csv(cr, {bad}, ctx);
  EXPECT_EQ(lines_of(cr.str()).at(1), "\"cr\ronly.onnx\",,,,,,,,,\"not a valid ONNX model, it says\",,,");
}

// kernels -f csv: node names are free text in ONNX; one with quotes and commas stays one cell.
TEST(CsvWriter, KernelListingKeepsOddNodeNamesInOneCell) {
  Kernel k;
  k.type = "relu";
  k.nodes = {"block \"1\", relu", "b"};
  k.ops = {"Relu", "Relu"};
  k.config.fields = {{"hw", 7}, {"cin", 3}};
  ModelKernels m;
  m.model = "m,1.onnx";
  m.kernels = {k};
  const std::vector<ModelKernels> models = {m};
  FusionRules rules = default_fusion_rules();
  std::ostringstream out;
  find_format(kernel_listing_formats(), "csv").write(out, KernelListing{models, rules, "default fusion rules"});
  const std::vector<std::string> lines = lines_of(out.str());
  ASSERT_EQ(lines.size(), 2u);
  const std::vector<std::string> head = split_csv_line(lines[0]), row = split_csv_line(lines[1]);
  ASSERT_EQ(row.size(), head.size());
  auto cell = [&](const std::string& column) {
    for (size_t i = 0; i < head.size(); ++i)
      if (head[i] == column) return row[i];
    return std::string("(no column " + column + ")");
  };
  EXPECT_EQ(cell("model"), "m,1.onnx");
  EXPECT_EQ(cell("nodes"), "block \"1\", relu b");
  EXPECT_EQ(cell("hw"), "7");
  EXPECT_EQ(cell("kernel"), "relu");
}

// Each table's names are the --format choices of its command; kinds that share a command's one
// --format flag must name the same formats, in the same order.
TEST(OutputFormats, TablesNameTheFormatsEachCommandOffers) {
  using Names = std::vector<std::string>;
  EXPECT_EQ(format_names(predict_formats()), (Names{"table", "json", "csv"}));
  EXPECT_EQ(format_names(kernel_estimate_formats()), format_names(predict_formats()));
  EXPECT_EQ(format_names(kernel_listing_formats()), (Names{"table", "json", "csv"}));
  EXPECT_EQ(format_names(eval_formats()), (Names{"table", "json", "csv"}));
  EXPECT_EQ(format_names(registry_formats()), (Names{"table", "json"}));
  EXPECT_EQ(format_names(schema_formats()), format_names(registry_formats()));
  EXPECT_EQ(format_names(check_formats()), (Names{"table", "json"}));
  EXPECT_EQ(format_names(measurement_formats()), (Names{"table", "json", "csv"}));
  for (const auto& f : predict_formats()) EXPECT_NE(f.write, nullptr) << f.name;
  for (const auto& f : eval_formats()) EXPECT_NE(f.write, nullptr) << f.name;
}

TEST(OutputFormats, UnknownNameIsAnErrorListingTheChoices) {
  try {
    find_format(check_formats(), "csv");
    FAIL() << "check has no csv format";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'csv'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("table, json"), std::string::npos) << e.what();
  }
}

// The schema listing through its table writes what list --schema always wrote: every family.
TEST(OutputFormats, SchemaJsonListsEveryFamily) {
  std::ostringstream out;
  find_format(schema_formats(), "json").write(out, all_schemas());
  for (const auto& s : all_schemas())
    EXPECT_NE(out.str().find("\"family\": \"" + s.family + "\""), std::string::npos) << s.family;
}

// The CLI's --format choices (and its help) come from the tables.
TEST(OutputFormats, CliFormatChoicesComeFromTheTables) {
  auto r = deepen::test::run_cli({"list", "-f", "csv"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("{table,json}"), std::string::npos) << r.err;
  r = deepen::test::run_cli({"kernels", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("{table,json,csv}"), std::string::npos) << r.out;
}
