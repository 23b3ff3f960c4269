#include "agents/replay_buffer.h"

#include "agents/checkpoint.h"
#include "core/error.h"

namespace seqrl {
namespace {

// Scalar columns are 1-D, vector columns 2-D.
void write_row(torch::Tensor& column, int64_t slot, const std::vector<double>& values) {
  float* dst = column.data_ptr<float>() + slot * static_cast<int64_t>(values.size());
  for (size_t i = 0; i < values.size(); ++i) dst[i] = static_cast<float>(values[i]);
}

void write_scalar(torch::Tensor& column, int64_t slot, double value) {
  column.data_ptr<float>()[slot] = static_cast<float>(value);
}

// Keys contain '/', which torch archive names do not allow.
std::string archive_key(std::string key) {
  for (auto& c : key)
    if (c == '/') c = '_';
  return "rows_" + key;
}

}  // namespace

void write_rows(CheckpointWriter& w, const std::map<std::string, torch::Tensor>& rows) {
  for (const auto& [k, v] : rows) w.tensor(archive_key(k), v);
}

std::map<std::string, torch::Tensor> read_rows(CheckpointReader& r) {
  std::map<std::string, torch::Tensor> rows;
  for (const auto& key : ReplayBuffer::keys()) rows[key] = r.tensor(archive_key(key));
  return rows;
}

const std::vector<std::string>& ReplayBuffer::keys() {
  static const std::vector<std::string> k = {"observations", "actions",    "rewards",
                                             "terminals",    "timeouts",   "next_observations",
                                             "infos/qpos",   "infos/qvel", "infos/action_log_probs"};
  return k;
}

ReplayBuffer::ReplayBuffer(int64_t capacity, int obs_dim, int act_dim, int nq, int nv) : capacity_(capacity) {
  if (capacity < 1) throw Error("replay buffer: capacity must be >= 1, got " + std::to_string(capacity));
  auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  columns_["observations"] = torch::zeros({capacity, obs_dim}, f32);
  columns_["next_observations"] = torch::zeros({capacity, obs_dim}, f32);
  columns_["actions"] = torch::zeros({capacity, act_dim}, f32);
  columns_["infos/qpos"] = torch::zeros({capacity, nq}, f32);
  columns_["infos/qvel"] = torch::zeros({capacity, nv}, f32);
  for (const char* k : {"rewards", "terminals", "timeouts", "infos/action_log_probs"})
    columns_[k] = torch::zeros({capacity}, f32);
}

void ReplayBuffer::add(const Transition& t) {
  auto width = [&](const char* key) { return static_cast<size_t>(columns_.at(key).size(1)); };
  if (t.obs.size() != width("observations") || t.next_obs.size() != width("observations") ||
      t.action.size() != width("actions") || t.qpos.size() != width("infos/qpos") ||
      t.qvel.size() != width("infos/qvel"))
    throw Error("replay buffer: transition widths do not match the buffer (obs/action/qpos/qvel)");
  int64_t slot = total_added_ % capacity_;
  write_row(columns_["observations"], slot, t.obs);
  write_row(columns_["next_observations"], slot, t.next_obs);
  write_row(columns_["actions"], slot, t.action);
  write_row(columns_["infos/qpos"], slot, t.qpos);
  write_row(columns_["infos/qvel"], slot, t.qvel);
  write_scalar(columns_["rewards"], slot, t.reward);
  write_scalar(columns_["terminals"], slot, t.terminal ? 1.0 : 0.0);
  write_scalar(columns_["timeouts"], slot, t.timeout ? 1.0 : 0.0);
  write_scalar(columns_["infos/action_log_probs"], slot, t.log_prob);
  ++total_added_;
}

ReplayBatch ReplayBuffer::sample(int64_t batch_size, std::mt19937_64& rng, torch::Device device) const {
  if (size() == 0) throw Error("replay buffer: cannot sample from an empty buffer");
  std::uniform_int_distribution<int64_t> pick(0, size() - 1);
  auto idx = torch::empty({batch_size}, torch::kInt64);
  auto* p = idx.data_ptr<int64_t>();
  for (int64_t i = 0; i < batch_size; ++i) p[i] = pick(rng);
  auto take = [&](const char* key) { return columns_.at(key).index_select(0, idx).to(device); };
  return {take("observations"), take("actions"), take("rewards"), take("next_observations"), take("terminals")};
}

std::map<std::string, torch::Tensor> ReplayBuffer::rows_in_order() const {
  std::map<std::string, torch::Tensor> out;
  int64_t n = size();
  int64_t start = total_added_ > capacity_ ? total_added_ % capacity_ : 0;
  for (const auto& [key, col] : columns_) {
    // Oldest row first: [start, n) then [0, start) once the ring has wrapped.
    out[key] = start == 0 ? col.slice(0, 0, n).clone() : torch::cat({col.slice(0, start, n), col.slice(0, 0, start)});
  }
  return out;
}

void ReplayBuffer::restore(const std::map<std::string, torch::Tensor>& rows, int64_t total_added,
                           const std::string& what) {
  auto n_it = rows.find("observations");
  if (n_it == rows.end()) throw Error(what + ": replay buffer has no 'observations'");
  int64_t n = n_it->second.size(0);
  if (n > capacity_ || n != std::min(total_added, capacity_))
    throw Error(what + ": replay buffer holds " + std::to_string(n) + " rows for " + std::to_string(total_added) +
                " added transitions with capacity " + std::to_string(capacity_));
  for (auto& [key, col] : columns_) {
    auto it = rows.find(key);
    if (it == rows.end()) throw Error(what + ": replay buffer has no '" + key + "'");
    auto expected = col.sizes().vec();
    expected[0] = n;
    if (it->second.sizes().vec() != expected)
      throw Error(what + ": replay buffer column '" + key + "' has the wrong shape");
    // Insertion row i goes back to slot i % capacity.
    int64_t first = total_added - n;
    for (int64_t i = 0; i < n;) {
      int64_t slot = (first + i) % capacity_;
      int64_t len = std::min(n - i, capacity_ - slot);
      col.slice(0, slot, slot + len).copy_(it->second.slice(0, i, i + len).to(torch::kFloat32));
      i += len;
    }
  }
  total_added_ = total_added;
}

}  // namespace seqrl
