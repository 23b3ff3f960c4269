// Table aggregation: mean ± std over seeds of each run's score, final and best kept apart.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "eval/evaluate.h"
#include "eval/table.h"

namespace fs = std::filesystem;
using namespace seqrl;

namespace {

void fake_run(const fs::path& dir, const std::string& dataset, const std::string& backbone, int seed,
              double final_high, double final_low, double best_high) {
  fs::create_directories(dir);
  std::ofstream(dir / "config.yaml") << "run:\n  seed: " << seed << "\ndata:\n  path: data/" << dataset
                                     << ".hdf5\nmodel:\n  backbone: " << backbone << "\n";
  std::ofstream(dir / "eval.json")
      << "{\"final\": [\n"
      << " {\"target\": 3600, \"mode\": \"window\", \"normalized_mean\": " << final_high << "},\n"
      << " {\"target\": 1800, \"mode\": \"window\", \"normalized_mean\": " << final_low << "},\n"
      << " {\"target\": 3600, \"mode\": \"recurrent\", \"normalized_mean\": " << final_high + 1 << "}],\n"
      << " \"best_during_training\": [\n"
      << " {\"target\": 3600, \"mode\": \"window\", \"step\": 10, \"normalized_mean\": " << best_high << "}]}\n";
}

class TableTest : public ::testing::Test {
 protected:
  fs::path root = fs::temp_directory_path() / ("seqrl_table_" + std::to_string(::getpid()));
  void SetUp() override {
    fs::remove_all(root);
    fake_run(root / "a", "hopper-medium", "mingru", 0, 60, 50, 70);
    fake_run(root / "b", "hopper-medium", "mingru", 1, 70, 40, 80);
    fake_run(root / "c", "hopper-medium", "mingru", 2, 80, 30, 80);
    fake_run(root / "nested" / "d", "hopper-medium", "transformer", 0, 55, 45, 65);
    fake_run(root / "e", "walker2d-medium", "transformer", 0, 75, 74, 76);
  }
  void TearDown() override { fs::remove_all(root); }
};

TEST_F(TableTest, MeanAndPopulationStdOverSeedsPerDatasetAndBackbone) {
  auto scores = read_run_scores({root.string()});
  EXPECT_EQ(scores.size(), 15u);  // 5 runs x 3 (target, mode) rows
  auto t = aggregate_scores(scores, "window", "first");
  ASSERT_EQ(t.datasets, (std::vector<std::string>{"hopper-medium", "walker2d-medium"}));
  ASSERT_EQ(t.backbones, (std::vector<std::string>{"mingru", "transformer"}));
  const auto& cell = t.final[0][0];  // hopper-medium, mingru: 60, 70, 80
  EXPECT_EQ(cell.seeds, 3);
  EXPECT_NEAR(cell.mean, 70.0, 1e-12);
  EXPECT_NEAR(cell.std, std::sqrt(200.0 / 3.0), 1e-12);
  EXPECT_NEAR(t.best[0][0].mean, 230.0 / 3.0, 1e-12);  // 70, 80, 80: best kept apart from final
  EXPECT_EQ(t.final[1][0].seeds, 0);                   // no walker2d mingru run
  EXPECT_NEAR(t.final[1][1].mean, 75.0, 1e-12);
}

TEST_F(TableTest, TargetAndModeSelectTheScore) {
  auto scores = read_run_scores({root.string()});
  auto low = aggregate_scores(scores, "window", "1800");
  EXPECT_NEAR(low.final[0][0].mean, 40.0, 1e-12);  // 50, 40, 30
  auto rec = aggregate_scores(scores, "recurrent", "first");
  EXPECT_NEAR(rec.final[0][0].mean, 71.0, 1e-12);
  EXPECT_THROW(aggregate_scores(scores, "window", "high"), UsageError);
}

TEST_F(TableTest, MarkdownAndCsvLabelFinalAndBest) {
  auto t = aggregate_scores(read_run_scores({root.string()}), "window", "first");
  auto md = table_markdown(t);
  EXPECT_NE(md.find("### Final"), std::string::npos);
  EXPECT_NE(md.find("### Best during training"), std::string::npos);
  EXPECT_NE(md.find("| hopper-medium | 70.0 ± 8.2 (3) | 55.0 ± 0.0 (1) |"), std::string::npos) << md;
  auto csv = table_csv(t);
  EXPECT_NE(csv.find("hopper-medium,mingru,window,first,3,70,"), std::string::npos) << csv;
}

TEST_F(TableTest, BrokenEvalJsonIsNamed) {
  std::ofstream(root / "a" / "eval.json") << "{\"final\": [ {\"target\": 1";
  try {
    read_run_scores({root.string()});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find((root / "a" / "eval.json").string()), std::string::npos) << e.what();
  }
}

TEST(MeanStd, MatchesDefinition) {
  auto [m, s] = mean_std({1, 2, 3, 4});
  EXPECT_DOUBLE_EQ(m, 2.5);
  EXPECT_DOUBLE_EQ(s, std::sqrt(1.25));
}

}  // namespace
