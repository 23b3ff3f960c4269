#include "eval/report.h"

#include <cmath>
#include <limits>

#include "core/atomic_file.h"
#include "core/error.h"

namespace seqrl {
using nlohmann::json;
namespace {

const char* kSchema = "seqrl-eval/1";

json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json numbers(const std::vector<double>& v) {
  json a = json::array();
  for (double x : v) a.push_back(number(x));
  return a;
}

const json& at(const json& j, const char* key, const std::string& source) {
  if (!j.is_object() || !j.contains(key)) throw Error(source + ": missing key '" + key + "'");
  return j.at(key);
}

double get_number(const json& j, const char* key, const std::string& source) {
  const auto& v = at(j, key, source);
  if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();
  if (!v.is_number()) throw Error(source + ": key '" + key + "': expected a number");
  return v.get<double>();
}

int64_t get_int(const json& j, const char* key, const std::string& source) {
  const auto& v = at(j, key, source);
  if (!v.is_number_integer()) throw Error(source + ": key '" + key + "': expected an integer");
  return v.get<int64_t>();
}

std::string get_string(const json& j, const char* key, const std::string& source) {
  const auto& v = at(j, key, source);
  if (!v.is_string()) throw Error(source + ": key '" + key + "': expected a string");
  return v.get<std::string>();
}

std::vector<double> get_numbers(const json& j, const char* key, const std::string& source) {
  const auto& v = at(j, key, source);
  if (!v.is_array()) throw Error(source + ": key '" + key + "': expected a list of numbers");
  std::vector<double> out;
  for (const auto& x : v) {
    if (!x.is_number() && !x.is_null()) throw Error(source + ": key '" + key + "': expected a list of numbers");
    out.push_back(x.is_null() ? std::numeric_limits<double>::quiet_NaN() : x.get<double>());
  }
  return out;
}

const json& get_list(const json& j, const char* key, const std::string& source) {
  const auto& v = at(j, key, source);
  if (!v.is_array()) throw Error(source + ": key '" + key + "': expected a list");
  return v;
}

}  // namespace

void update_best(std::vector<BestScore>& best, const EvalResult& r, int64_t step) {
  for (auto& b : best)
    if (b.target == r.target && b.mode == r.mode) {
      if (r.normalized_mean > b.normalized_mean)
        b = {r.target, r.mode, step, r.normalized_mean, r.normalized_std, r.return_mean};
      return;
    }
  best.push_back({r.target, r.mode, step, r.normalized_mean, r.normalized_std, r.return_mean});
}

json to_json(const std::vector<BestScore>& best) {
  json a = json::array();
  for (const auto& b : best)
    a.push_back({{"target", number(b.target)},
                 {"mode", b.mode},
                 {"step", b.step},
                 {"normalized_mean", number(b.normalized_mean)},
                 {"normalized_std", number(b.normalized_std)},
                 {"return_mean", number(b.return_mean)}});
  return a;
}

json to_json(const EvalReport& report) {
  json final = json::array();
  for (const auto& r : report.final)
    final.push_back({{"target", number(r.target)},
                     {"mode", r.mode},
                     {"episodes", r.returns.size()},
                     {"return_mean", number(r.return_mean)},
                     {"return_std", number(r.return_std)},
                     {"normalized_mean", number(r.normalized_mean)},
                     {"normalized_std", number(r.normalized_std)},
                     {"returns", numbers(r.returns)},
                     {"normalized", numbers(r.normalized)},
                     {"lengths", numbers(r.lengths)},
                     {"seconds", number(r.seconds)}});
  json out = {{"schema", kSchema},
              {"env", report.env},
              {"dataset", report.dataset},
              {"backbone", report.backbone},
              {"train_context", report.train_context},
              {"seed", report.seed},
              {"eval_seed", report.eval_seed},
              {"checkpoint", report.checkpoint},
              {"step", report.step},
              {"final", final},
              {"best_during_training", to_json(report.best_during_training)}};
  if (const auto& d = report.data)
    out["data"] = {{"transitions", d->transitions},
                   {"episodes", d->episodes},
                   {"return_mean", number(d->return_mean)},
                   {"return_std", number(d->return_std)},
                   {"normalized_mean", number(d->normalized_mean)},
                   {"normalized_std", number(d->normalized_std)}};
  return out;
}

std::vector<BestScore> best_scores_from_json(const json& j, const std::string& source) {
  if (!j.is_array()) throw Error(source + ": best-during-training scores: expected a list");
  std::vector<BestScore> best;
  for (const auto& b : j)
    best.push_back({get_number(b, "target", source), get_string(b, "mode", source), get_int(b, "step", source),
                    get_number(b, "normalized_mean", source), get_number(b, "normalized_std", source),
                    get_number(b, "return_mean", source)});
  return best;
}

EvalReport eval_report_from_json(const json& j, const std::string& source) {
  if (!j.is_object()) throw Error(source + ": expected a JSON object");
  if (get_string(j, "schema", source) != kSchema)
    throw Error(source + ": schema '" + j.at("schema").get<std::string>() + "', expected '" + kSchema + "'");
  EvalReport r;
  r.env = get_string(j, "env", source);
  r.dataset = get_string(j, "dataset", source);
  r.backbone = get_string(j, "backbone", source);
  r.train_context = get_string(j, "train_context", source);
  r.checkpoint = get_string(j, "checkpoint", source);
  r.seed = static_cast<int>(get_int(j, "seed", source));
  r.eval_seed = static_cast<int>(get_int(j, "eval_seed", source));
  r.step = get_int(j, "step", source);
  for (const auto& f : get_list(j, "final", source)) {
    EvalResult e;
    e.env = r.env;
    e.target = get_number(f, "target", source);
    e.mode = get_string(f, "mode", source);
    e.return_mean = get_number(f, "return_mean", source);
    e.return_std = get_number(f, "return_std", source);
    e.normalized_mean = get_number(f, "normalized_mean", source);
    e.normalized_std = get_number(f, "normalized_std", source);
    e.returns = get_numbers(f, "returns", source);
    e.normalized = get_numbers(f, "normalized", source);
    e.lengths = get_numbers(f, "lengths", source);
    e.seconds = get_number(f, "seconds", source);
    r.final.push_back(std::move(e));
  }
  r.best_during_training = best_scores_from_json(get_list(j, "best_during_training", source), source);
  if (j.contains("data")) {
    const auto& d = j.at("data");
    const std::string where = source + ": data";
    r.data = DataScore{get_int(d, "transitions", where),        get_int(d, "episodes", where),
                       get_number(d, "return_mean", where),     get_number(d, "return_std", where),
                       get_number(d, "normalized_mean", where), get_number(d, "normalized_std", where)};
  }
  return r;
}

void write_eval_report(const std::string& path, const EvalReport& report) {
  write_file_atomic(path, to_json(report).dump(2) + "\n");
}

EvalReport read_eval_report(const std::string& path) {
  json j;
  try {
    j = json::parse(read_file(path));
  } catch (const json::parse_error& e) {
    throw Error(path + ": not valid JSON (byte " + std::to_string(e.byte) + ")");
  }
  return eval_report_from_json(j, path);
}

}  // namespace seqrl
