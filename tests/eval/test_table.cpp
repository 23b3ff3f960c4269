// Table aggregation: mean ± std over seeds of each run's score, final and best kept apart; runs
// grouped by their whole config, and requests that match nothing are errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "eval/evaluate.h"
#include "eval/report.h"
#include "eval/table.h"

namespace fs = std::filesystem;
using namespace seqrl;

namespace {

EvalResult result(double target, const std::string& mode, double normalized) {
  EvalResult r;
  r.target = target;
  r.mode = mode;
  r.normalized_mean = normalized;
  r.normalized_std = normalized / 10;  // the spread over episodes, distinct from any over seeds
  r.returns = r.normalized = r.lengths = {normalized};
  return r;
}

// A finished run folder: config.yaml and an eval.json in the real schema (written by the code
// that `seqrl train` uses). `lr` is one setting besides dataset, backbone and seed.
void fake_run(const fs::path& dir, const std::string& dataset, const std::string& backbone, int seed, double final_high,
              double final_low, double best_high, double lr = 1e-4) {
  fs::create_directories(dir / "checkpoints");
  std::ofstream(dir / "config.yaml") << "run:\n  seed: " << seed << "\n  threads: " << seed + 1
                                     << "\ndata:\n  path: /data/" << dataset
                                     << ".hdf5\nmodel:\n  backbone: " << backbone << "\ntrain:\n  lr: " << lr
                                     << "\n  steps: 100\n";
  EvalReport report;
  report.env = "hopper";
  report.dataset = "/data/" + dataset + ".hdf5";
  report.backbone = backbone;
  report.seed = seed;
  report.step = 100;
  report.final = {result(3600, "window", final_high), result(1800, "window", final_low),
                  result(3600, "recurrent", final_high + 1)};
  report.best_during_training = {{3600, "window", 10, best_high, best_high / 40, 0}};
  write_eval_report((dir / "eval.json").string(), report);
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
  ASSERT_EQ(t.columns.size(), 2u);
  EXPECT_EQ(t.columns[0].label, "mingru");
  EXPECT_EQ(t.columns[1].label, "transformer");
  EXPECT_TRUE(t.notes.empty());      // seeds (and thread counts) differ, nothing else
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

TEST_F(TableTest, ARequestNoRunMatchesIsAnErrorNamingWhatTheRunsHave) {
  auto scores = read_run_scores({root.string()});
  try {
    aggregate_scores(scores, "window", "900");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no run was evaluated at target 900"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("1800, 3600"), std::string::npos) << e.what();
  }
  fs::remove_all(root);
  fs::create_directories(root / "only-started" / "checkpoints");
  std::ofstream(root / "only-started" / "config.yaml")
      << "run:\n  seed: 0\ndata:\n  path: x.hdf5\nmodel:\n  backbone: gru\n";
  EXPECT_THROW(read_run_scores({root.string()}), Error);  // no finished run: not an empty table
}

TEST_F(TableTest, RunsThatDifferInAnotherSettingSplitIntoColumnsNotOneCell) {
  // Two more hopper/mingru runs with a different learning rate: they must not join the 3 seeds.
  fake_run(root / "f", "hopper-medium", "mingru", 0, 10, 10, 10, 1e-3);
  fake_run(root / "g", "hopper-medium", "mingru", 1, 20, 20, 20, 1e-3);
  auto t = aggregate_scores(read_run_scores({root.string()}), "window", "first");
  ASSERT_EQ(t.columns.size(), 3u);
  EXPECT_EQ(t.columns[0].label, "mingru (train.lr=0.0001)");
  EXPECT_EQ(t.columns[1].label, "mingru (train.lr=0.001)");
  EXPECT_EQ(t.final[0][0].seeds, 3);
  EXPECT_NEAR(t.final[0][0].mean, 70.0, 1e-12);
  EXPECT_EQ(t.final[0][1].seeds, 2);
  EXPECT_NEAR(t.final[0][1].mean, 15.0, 1e-12);
  EXPECT_NE(table_markdown(t).find("mingru (train.lr=0.001)"), std::string::npos);
}

TEST_F(TableTest, SettingsThatDifferOnlyBetweenCellsAreNamedUnderTheTable) {
  fs::remove_all(root);
  fake_run(root / "a", "hopper-medium", "gru", 0, 50, 50, 50, 1e-4);
  fake_run(root / "b", "walker2d-medium", "gru", 0, 60, 60, 60, 1e-3);
  auto t = aggregate_scores(read_run_scores({root.string()}), "window", "first");
  ASSERT_EQ(t.columns.size(), 1u);
  ASSERT_EQ(t.notes.size(), 1u);
  EXPECT_NE(t.notes[0].find("train.lr"), std::string::npos) << t.notes[0];
  EXPECT_NE(table_markdown(t).find("Note: runs in different cells also differ in train.lr"), std::string::npos);
}

TEST(PaperScore, DecisionTransformerNumbersForD4rlNamesOnly) {
  EXPECT_DOUBLE_EQ(paper_score("hopper_medium-v2"), 67.6);
  EXPECT_DOUBLE_EQ(paper_score("walker2d-medium-expert"), 108.1);
  EXPECT_TRUE(std::isnan(paper_score("hopper-medium-seqrl")));  // our own data: no paper number
}

TEST_F(TableTest, MarkdownAndCsvLabelFinalAndBest) {
  auto t = aggregate_scores(read_run_scores({root.string()}), "window", "first");
  auto md = table_markdown(t);
  EXPECT_NE(md.find("### Final"), std::string::npos);
  EXPECT_NE(md.find("### Best during training"), std::string::npos);
  EXPECT_NE(md.find("| hopper-medium | – | 70.0 ± 8.2 (3) | 55.0 ± 5.5 (1*) |"), std::string::npos)
      << md;  // no data score
  auto csv = table_csv(t);
  EXPECT_NE(csv.find("hopper-medium,mingru,mingru,window,first,3,70,"), std::string::npos) << csv;
}

// One seed has no spread over seeds: its cell shows the run's spread over its evaluation
// episodes (eval.json's normalized_std, final and best apart), marked (1*) and explained under
// the table; cells of several seeds keep the spread over seeds.
TEST_F(TableTest, OneSeedCellsShowTheirRunsSpreadOverEpisodesMarked) {
  auto t = aggregate_scores(read_run_scores({root.string()}), "window", "first");
  const auto& several = t.final[0][0];  // hopper-medium / mingru: seeds 0, 1, 2
  EXPECT_EQ(several.seeds, 3);
  EXPECT_DOUBLE_EQ(several.spread(), several.std);
  const auto& one = t.final[0][1];  // hopper-medium / transformer: seed 0, final 55 ± 5.5, best 65 ± 1.625
  EXPECT_EQ(one.seeds, 1);
  EXPECT_DOUBLE_EQ(one.spread(), 5.5);
  EXPECT_DOUBLE_EQ(t.best[0][1].spread(), 1.625);
  auto md = table_markdown(t);
  EXPECT_NE(md.find("| hopper-medium | – | 76.7 ± 4.7 (3) | 65.0 ± 1.6 (1*) |"), std::string::npos) << md;  // best
  EXPECT_NE(md.find("(1*) = one seed: its ± is the std over that run's evaluation episodes"), std::string::npos);
  auto csv = table_csv(t);
  EXPECT_NE(csv.find("hopper-medium,transformer,transformer,window,first,1,55,0,65,0,67.6,,,5.5,1.625\n"),
            std::string::npos)
      << csv;

  auto seeds_only =
      aggregate_scores(read_run_scores({(root / "a").string(), (root / "b").string()}), "window", "first");
  EXPECT_EQ(table_markdown(seeds_only).find("(1*)"), std::string::npos) << table_markdown(seeds_only);
}

// Gives a run's eval.json the training data's score, as `seqrl train` writes it.
void set_data(const fs::path& run, int64_t transitions, double return_mean, double normalized_mean) {
  auto report = read_eval_report((run / "eval.json").string());
  report.data = DataScore{transitions, 7, return_mean, 10.0, normalized_mean, 2.5};
  write_eval_report((run / "eval.json").string(), report);
}

TEST_F(TableTest, TheDataColumnIsTheTrainingFilesOwnScore) {
  for (const char* run : {"a", "b", "c", "nested/d"}) set_data(root / run, 1000, 1193.3, 37.3);
  set_data(root / "e", 2000, 2572.5, 56.0);
  auto t = aggregate_scores(read_run_scores({root.string()}), "window", "first");
  ASSERT_EQ(t.data.size(), 2u);
  ASSERT_TRUE(t.data[0] && t.data[1]);
  EXPECT_EQ(t.data[1]->transitions, 2000);
  EXPECT_TRUE(t.notes.empty());
  auto md = table_markdown(t);
  EXPECT_NE(md.find("| dataset | data | mingru | transformer |"), std::string::npos) << md;
  EXPECT_NE(md.find("| hopper-medium | 37.3 ± 2.5 | 70.0 ± 8.2 (3) | 55.0 ± 5.5 (1*) |"), std::string::npos) << md;
  EXPECT_NE(md.find("| walker2d-medium | 56.0 ± 2.5 | – | 75.0 ± 7.5 (1*) |"), std::string::npos) << md;
  auto csv = table_csv(t);
  EXPECT_NE(csv.find("paper,data_mean,data_std,final_episode_std,best_episode_std\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("hopper-medium,mingru,mingru,window,first,3,70,8.16497,76.6667,4.71405,67.6,37.3,2.5,,\n"),
            std::string::npos)
      << csv;

  // Round trip, and a run from before the data score keeps reading.
  auto back = read_eval_report((root / "e" / "eval.json").string());
  ASSERT_TRUE(back.data);
  EXPECT_EQ(back.data->episodes, 7);
  EXPECT_DOUBLE_EQ(back.data->return_mean, 2572.5);
  fake_run(root / "old", "hopper-medium", "gru", 0, 1, 1, 1);
  EXPECT_FALSE(read_eval_report((root / "old" / "eval.json").string()).data);
}

// A suite file made again (a new expert) under the same name: runs on the old and the new file
// must not pass for one dataset's seeds without a word.
TEST_F(TableTest, RunsTrainedOnDifferentFilesUnderOneNameAreNamed) {
  set_data(root / "a", 1999833, 2848.1, 62.0);
  set_data(root / "b", 1999833, 3425.5, 74.6);
  auto t = aggregate_scores(read_run_scores({root.string()}), "window", "first");
  EXPECT_FALSE(t.data[0]) << "no data score for a row of mixed files";
  ASSERT_EQ(t.notes.size(), 1u);
  EXPECT_NE(t.notes[0].find("hopper-medium: the runs were trained on different files"), std::string::npos)
      << t.notes[0];
  EXPECT_NE(t.notes[0].find((root / "a").string()), std::string::npos) << t.notes[0];
  EXPECT_NE(t.notes[0].find((root / "b").string()), std::string::npos) << t.notes[0];
  EXPECT_NE(table_markdown(t).find("| hopper-medium | – |"), std::string::npos);
}

TEST_F(TableTest, ABadDataScoreIsNamed) {
  auto path = (root / "a" / "eval.json").string();
  auto text = read_file(path);
  text.insert(text.rfind('}'), ", \"data\": {\"transitions\": \"many\"}");
  write_file_atomic(path, text);
  try {
    read_eval_report(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ": data: key 'transitions': expected an integer"), std::string::npos)
        << e.what();
  }
}

TEST_F(TableTest, BrokenEvalJsonIsNamed) {
  std::ofstream(root / "a" / "eval.json") << "{\"schema\": \"seqrl-eval/1\", \"final\": [ {\"target\": 1";
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
