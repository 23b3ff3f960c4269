#include "agents/collector.h"

#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>

#include "agents/checkpoint.h"
#include "agents/replay_buffer.h"
#include "agents/sac.h"
#include "core/error.h"
#include "core/log.h"
#include "core/rng.h"
#include "core/run_dir.h"
#include "core/stats.h"
#include "datasets/checked_read.h"
#include "datasets/d4rl_writer.h"
#include "datasets/dataset.h"
#include "datasets/hdf5_io.h"
#include "envs/env.h"

namespace seqrl {
namespace fs = std::filesystem;
namespace {

using Rows = std::map<std::string, torch::Tensor>;  // keyed like ReplayBuffer::keys()

// Returns of the finished episodes (ended by terminal or timeout) in row order.
std::vector<double> finished_returns(const Rows& rows) {
  auto r = rows.at("rewards").to(torch::kFloat64).contiguous();
  auto done = (rows.at("terminals") + rows.at("timeouts")).gt(0.5).contiguous();
  const double* rp = r.data_ptr<double>();
  const bool* dp = done.data_ptr<bool>();
  std::vector<double> out;
  double ret = 0;
  for (int64_t i = 0; i < r.numel(); ++i) {
    ret += rp[i];
    if (dp[i]) out.push_back(ret), ret = 0;
  }
  return out;
}

CollectSummary summarize(const Rows& rows) {
  CollectSummary s;
  s.rows = rows.at("rewards").size(0);
  auto rets = finished_returns(rows);
  s.episodes = static_cast<int64_t>(rets.size());
  std::tie(s.return_mean, s.return_std) = mean_std(rets);
  s.complete = true;
  return s;
}

// D4RL writes float32 for rollouts and float64 for medium-replay (the buffer's own dtype).
D4rlArrays to_arrays(const Rows& rows, torch::ScalarType dtype) {
  auto f = [&](const char* k) { return rows.count(k) ? rows.at(k).to(dtype) : torch::Tensor(); };
  auto flag = [&](const char* k) { return rows.at(k).gt(0.5); };
  D4rlArrays a;
  a.observations = f("observations");
  a.actions = f("actions");
  a.rewards = f("rewards");
  a.terminals = flag("terminals");
  a.timeouts = flag("timeouts");
  a.next_observations = f("next_observations");
  a.qpos = f("infos/qpos");
  a.qvel = f("infos/qvel");
  a.action_log_probs = f("infos/action_log_probs");
  return a;
}

std::map<std::string, std::string> summary_metadata(const CollectSummary& s) {
  return {{"returns/mean", std::to_string(s.return_mean)},
          {"returns/std", std::to_string(s.return_std)},
          {"returns/episodes", std::to_string(s.episodes)}};
}

CollectSummary write_rows_as_d4rl(const CollectConfig& cfg, const Rows& rows, torch::ScalarType dtype,
                                  std::map<std::string, std::string> metadata) {
  auto s = summarize(rows);
  for (auto& kv : summary_metadata(s)) metadata.insert(kv);
  metadata["kind"] = cfg.kind;
  D4rlWriteOptions opt;
  opt.gzip_level = cfg.gzip_level;
  write_d4rl(cfg.out, to_arrays(rows, dtype), metadata, opt);
  return s;
}

Rows cat_rows(const std::vector<Rows>& parts) {
  Rows out;
  for (const auto& key : ReplayBuffer::keys()) {
    std::vector<torch::Tensor> ts;
    for (const auto& p : parts) ts.push_back(p.at(key));
    out[key] = torch::cat(ts);
  }
  return out;
}

// ---- medium-replay: the online run's buffer up to the checkpoint's step ----

CollectSummary dump_replay(const CollectConfig& cfg) {
  if (cfg.policy.empty()) throw UsageError("--kind medium-replay needs --policy RUN_DIR/checkpoints/step_N");
  auto ckpt = resolve_checkpoint(cfg.policy);
  CheckpointReader r(ckpt);
  auto step = static_cast<int64_t>(r.number("step"));
  auto replay = (fs::path(ckpt).parent_path() / "replay.pt").string();
  if (!fs::is_regular_file(replay))
    throw Error(replay +
                ": no saved replay buffer beside the checkpoint (was the run made with run.save_replay=false?)");
  int64_t total = 0;
  auto rows = load_replay_rows(replay, &total);
  int64_t stored = rows.at("observations").size(0);
  if (total - stored > 0)
    throw Error(replay + ": the buffer wrapped (its first " + std::to_string(total - stored) +
                " transitions are gone); medium-replay needs run.buffer_size >= the policy's step");
  if (total < step)
    throw Error(replay + ": holds " + std::to_string(total) + " transitions, fewer than the policy's step " +
                std::to_string(step));
  for (auto& [k, v] : rows) v = v.slice(0, 0, step);
  return write_rows_as_d4rl(
      cfg, rows, torch::kFloat64,
      {{"algorithm", "SAC"}, {"policy/path", ckpt}, {"iteration", std::to_string(step)}, {"env", r.text("env")}});
}

// ---- medium-expert: two files, the first cut after its last finished episode ----

Rows read_d4rl_rows(const std::string& path, const std::string& env, bool cut_to_finished) {
  auto ds = load_dataset(path, env);  // validates layout, shapes, values, env
  if (ds.layout != "d4rl") throw Error(path + ": medium-expert concatenates D4RL files, this one is " + ds.layout);
  int64_t end = ds.size();
  if (cut_to_finished) {
    end = 0;
    for (const auto& e : ds.episodes)
      if (e.terminal || e.timeout) end = e.start + e.length;
    if (end == 0) throw Error(path + ": has no finished episode to keep");
  }
  auto file = h5::open_file(path);
  Rows rows;
  for (const auto& key : ReplayBuffer::keys()) {
    if (!h5::exists(file.get(), key)) throw Error(path + ": " + key + ": missing (medium-expert keeps every D4RL key)");
    torch::Tensor t;
    if (key == "terminals" || key == "timeouts") {
      t = read_flags(file.get(), key, path).to(torch::kFloat32);
    } else if (key == "rewards" || key == "infos/action_log_probs") {
      t = read_column(file.get(), key, path);
    } else {
      t = read_table(file.get(), key, path);
    }
    check_rows(t, ds.size(), key, "rewards", path);
    rows[key] = t.slice(0, 0, end);
  }
  return rows;
}

CollectSummary concat(const CollectConfig& cfg) {
  if (cfg.inputs.size() != 2) throw UsageError("--kind medium-expert needs --inputs MEDIUM_FILE EXPERT_FILE");
  auto rows = cat_rows({read_d4rl_rows(cfg.inputs[0], cfg.env, true), read_d4rl_rows(cfg.inputs[1], cfg.env, false)});
  return write_rows_as_d4rl(cfg, rows, torch::kFloat32, {{"sources", cfg.inputs[0] + " + " + cfg.inputs[1]}});
}

// ---- rollouts (random, medium, expert) ----

std::string fingerprint(const CollectConfig& cfg) {
  return cfg.kind + "|" + cfg.env + "|" + cfg.policy + "|" + std::to_string(cfg.seed) + "|" +
         std::to_string(cfg.steps) + "|" + std::to_string(cfg.chunk_steps) + "|" +
         (cfg.deterministic ? "det" : "stoch");
}

std::string chunk_path(const std::string& partial, int64_t i) {
  char name[32];
  std::snprintf(name, sizeof name, "chunk_%06lld.pt", static_cast<long long>(i));
  return (fs::path(partial) / name).string();
}

CollectSummary rollout(const CollectConfig& cfg) {
  const auto& spec = env_spec(cfg.env);
  const bool random = cfg.kind == "random";
  Actor actor{nullptr};
  std::map<std::string, std::string> metadata{
      {"algorithm", random ? "random" : "SAC"}, {"env", spec.name}, {"seed", std::to_string(cfg.seed)}};
  if (!random) {
    if (cfg.policy.empty()) throw UsageError("--kind " + cfg.kind + " needs --policy RUN_DIR/checkpoints/step_N");
    CheckpointReader r(resolve_checkpoint(cfg.policy));
    if (r.text("env") != spec.name)
      throw Error(r.path() + ": policy was trained on " + r.text("env") + ", not " + spec.name);
    actor = Sac::load_actor(r, torch::kCPU);
    metadata["policy/path"] = r.path();  // metadata/policy/ is a group, as in D4RL
    metadata["iteration"] = std::to_string(static_cast<int64_t>(r.number("step")));
    metadata["policy/deterministic"] = cfg.deterministic ? "true" : "false";
  }

  const std::string partial = cfg.out + ".partial";
  const std::string progress_path = (fs::path(partial) / "progress.pt").string();
  int64_t chunks = 0, rows_done = 0, episodes = 0;
  std::mt19937_64 rng(static_cast<uint64_t>(cfg.seed));
  torch::manual_seed(static_cast<uint64_t>(cfg.seed));
  if (fs::exists(partial)) {
    if (!cfg.resume)
      throw Error(partial + ": an interrupted collection is there; pass --resume to continue it, or delete it");
    if (fs::exists(progress_path)) {
      CheckpointReader p(progress_path);
      if (p.text("fingerprint") != fingerprint(cfg))
        throw Error(progress_path + ": was started with other options (" + p.text("fingerprint") +
                    "); resume with the same --kind/--env/--policy/--seed/--steps/--chunk");
      chunks = static_cast<int64_t>(p.number("chunks"));
      rows_done = static_cast<int64_t>(p.number("rows"));
      episodes = static_cast<int64_t>(p.number("episodes"));
      rng_from_text(rng, p.text("rng"), progress_path);
      p.torch_rng();
      spdlog::info("resuming {}: {} rows in {} chunks", partial, rows_done, chunks);
    }
  }
  fs::create_directories(partial);

  Env env(spec.name);
  const double uniform_log_prob = -spec.act_dim * std::log(2.0);
  Progress progress("collect " + cfg.kind, cfg.steps);
  int new_chunks = 0;
  while (rows_done < cfg.steps) {
    if (cfg.stop_after_chunks > 0 && new_chunks == cfg.stop_after_chunks) {
      spdlog::info("stopped after {} chunks ({} rows); --resume continues", new_chunks, rows_done);
      CollectSummary s;
      s.rows = rows_done;
      return s;
    }
    // Whole episodes until the chunk is full; only the very last episode may be cut short.
    ReplayBuffer chunk(std::min(cfg.steps - rows_done, cfg.chunk_steps + spec.max_episode_steps), spec.obs_dim,
                       spec.act_dim, spec.nq, spec.nv);
    while (chunk.total_added() < cfg.chunk_steps && rows_done + chunk.total_added() < cfg.steps) {
      auto obs = env.reset(static_cast<uint64_t>(cfg.seed) * 1'000'003ull + episodes);
      for (;;) {
        Transition t{obs, std::vector<double>(spec.act_dim), {}, env.qpos(), env.qvel(), 0, uniform_log_prob};
        if (random) {
          std::uniform_real_distribution<double> u(-1.0, 1.0);
          for (auto& a : t.action) a = u(rng);
        } else {
          t.action = policy_action(actor, obs, cfg.deterministic, &t.log_prob, torch::kCPU);
        }
        auto r = env.step(t.action);
        t.next_obs = r.obs;
        t.reward = r.reward;
        t.terminal = r.terminated && !r.truncated;
        t.timeout = r.truncated;
        chunk.add(t);
        obs = r.obs;
        if (r.terminated || r.truncated) {
          ++episodes;
          break;
        }
        if (rows_done + chunk.total_added() == cfg.steps) break;
      }
      progress.update(rows_done + chunk.total_added());
    }
    CheckpointWriter cw;
    write_rows(cw, chunk.rows_in_order());
    cw.save(chunk_path(partial, chunks));
    rows_done += chunk.total_added();
    ++chunks, ++new_chunks;
    CheckpointWriter pw;
    pw.text("fingerprint", fingerprint(cfg));
    pw.number("chunks", static_cast<double>(chunks));
    pw.number("rows", static_cast<double>(rows_done));
    pw.number("episodes", static_cast<double>(episodes));
    pw.text("rng", rng_to_text(rng));
    pw.torch_rng();
    pw.save(progress_path);
  }
  progress.finish();

  std::vector<Rows> parts;
  for (int64_t i = 0; i < chunks; ++i) {
    CheckpointReader r(chunk_path(partial, i));
    parts.push_back(read_rows(r));
  }
  auto s = write_rows_as_d4rl(cfg, cat_rows(parts), torch::kFloat32, metadata);
  fs::remove_all(partial);
  return s;
}

}  // namespace

CollectSummary collect(const CollectConfig& cfg) {
  if (cfg.out.empty()) throw UsageError("--out FILE is required");
  if (cfg.chunk_steps < 1) throw UsageError("--chunk must be >= 1");
  if (cfg.kind == "medium-replay") return dump_replay(cfg);
  if (cfg.kind == "medium-expert") return concat(cfg);
  if (cfg.kind == "random" || cfg.kind == "medium" || cfg.kind == "expert" || cfg.kind == "policy") return rollout(cfg);
  throw UsageError("--kind: unknown kind '" + cfg.kind +
                   "' (random, medium, expert, policy, medium-replay, medium-expert)");
}

}  // namespace seqrl
