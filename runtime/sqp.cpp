// The policy: the decision model's recurrent acting (models/decision_model.cpp act /
// observe_action) over the residual stack (models/block.cpp), in plain float32 loops.
//
// One difference in schedule, not in result: the a_t token is kept until the next sqp_act and
// run through the stack together with R_{t+1} and s_{t+1}, so that every weight is read once
// per env step for three tokens. Only the s token's output is needed, so the last layer's
// MLP and the final norm run for that token alone.
#include "runtime/sqp.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/mixer.h"
#include "runtime/sqp_file.h"
#include "runtime/sqp_format.h"

namespace {

using namespace sqp;

struct Layer {
  LayerNorm norm1, norm2;
  std::unique_ptr<Mixer> mixer;
  Linear fc1, fc2;
};

}  // namespace

struct sqp_policy {
  std::string backbone, env, error;
  sqp_info_t info{};
  int state_dim = 0, act_dim = 0, dim = 0, max_ep_len = 0;
  std::vector<float> state_mean, state_std, time_table;  // time_table: [max_ep_len][dim]
  Linear embed_return, embed_state, embed_action, action_head;
  LayerNorm embed_norm, final_norm;
  std::vector<Layer> layers;
  // Episode state.
  float rtg = 0;
  int64_t t = 0;
  bool action_pending = false, started = false;
  // Buffers, sized at load.
  AlignedVector<float> input, tokens, normed, mixed, hidden, head;

  sqp_policy(const PolicyFile& f, Precision precision);
  void act(const double* obs, double* action);
  const float* time_row(int64_t step) const {
    return time_table.data() + size_t(std::min<int64_t>(step, max_ep_len - 1)) * dim;
  }
  // tokens[row] = embed(x) + time embedding, then embed_norm.
  void embed(const Linear& l, const float* x, int64_t step, int row) {
    float* token = tokens.data() + size_t(row) * dim;
    l.apply(x, 1, token);
    const float* time = time_row(step);
    for (int d = 0; d < dim; ++d) token[d] += time[d];
    embed_norm.apply(token, token);
  }
};

sqp_policy::sqp_policy(const PolicyFile& f, Precision precision)
    : backbone(f.backbone),
      env(f.env),
      state_dim(f.state_dim),
      act_dim(f.act_dim),
      dim(f.dim),
      max_ep_len(f.max_ep_len),
      state_mean(f.state_mean),
      state_std(f.state_std) {
  MixerLoader load_mixer = mixer_loader(f.backbone);
  if (!load_mixer)
    throw LoadError("backbone '" + f.backbone + "' has no runtime support; supported: " + runtime_backbones());
  embed_return = Linear::load(f, "embed_return", 1, dim);
  embed_state = Linear::load(f, "embed_state", state_dim, dim);
  embed_action = Linear::load(f, "embed_action", act_dim, dim);
  time_table = f.get("embed_timestep.weight", {max_ep_len, dim});
  embed_norm = LayerNorm::load(f, "embed_norm", dim);
  int mlp = static_cast<int>(f.shape("backbone.layers.0.fc1.weight").at(0));
  for (int l = 0; l < f.layers; ++l) {
    const std::string p = "backbone.layers." + std::to_string(l) + ".";
    layers.push_back({LayerNorm::load(f, p + "norm1", dim), LayerNorm::load(f, p + "norm2", dim),
                      load_mixer({f, p + "mixer.", dim, precision}),
                      Linear::load(f, p + "fc1", dim, mlp, true, precision),
                      Linear::load(f, p + "fc2", mlp, dim, true, precision)});
  }
  final_norm = LayerNorm::load(f, "backbone.final_norm", dim);
  action_head = Linear::load(f, "action_head", dim, act_dim);
  input.resize(size_t(state_dim) + act_dim);  // the normalized state, then the pending action
  for (auto* buffer : {&tokens, &normed, &mixed}) buffer->resize(size_t(kMaxTokens) * dim);
  hidden.resize(size_t(kMaxTokens) * mlp);
  head.resize(act_dim);
  info = {backbone.c_str(),
          env.c_str(),
          state_dim,
          act_dim,
          dim,
          f.layers,
          f.reward_scale,
          f.target_return,
          precision == Precision::int8 ? "int8" : (f.dtype == SQP_DTYPE_F16 ? "float16" : "float32")};
}

void sqp_policy::act(const double* obs, double* action) {
  int n = 0;
  if (action_pending) embed(embed_action, input.data() + state_dim, t - 1, n++);  // a_{t-1}, stored by observe
  embed(embed_return, &rtg, t, n++);
  for (int i = 0; i < state_dim; ++i) input[i] = (float(obs[i]) - state_mean[i]) / state_std[i];
  embed(embed_state, input.data(), t, n++);
  action_pending = false;

  for (size_t l = 0; l < layers.size(); ++l) {
    Layer& layer = layers[l];
    const int first = l + 1 == layers.size() ? n - 1 : 0;  // rows whose output is used further
    for (int r = 0; r < n; ++r) layer.norm1.apply(&tokens[size_t(r) * dim], &normed[size_t(r) * dim]);
    layer.mixer->step(normed.data(), n, first, mixed.data());
    const int rows = n - first;
    float *h = &tokens[size_t(first) * dim], *m = &mixed[size_t(first) * dim], *x = &normed[size_t(first) * dim];
    for (int i = 0; i < rows * dim; ++i) h[i] += m[i];
    for (int r = 0; r < rows; ++r) layer.norm2.apply(h + size_t(r) * dim, x + size_t(r) * dim);
    layer.fc1.apply(x, rows, hidden.data());
    gelu_inplace(hidden.data(), rows * layer.fc1.out);
    layer.fc2.apply(hidden.data(), rows, m);
    for (int i = 0; i < rows * dim; ++i) h[i] += m[i];
  }
  float* last = &tokens[size_t(n - 1) * dim];
  final_norm.apply(last, last);
  action_head.apply(last, 1, head.data());
  for (int i = 0; i < act_dim; ++i) action[i] = std::tanh(head[i]);
}

namespace {

template <class F>
int guarded(sqp_policy* p, F&& body) {
  if (!p) return SQP_ERROR;
  try {
    body();
    p->error.clear();
    return SQP_OK;
  } catch (const std::exception& e) {
    p->error = e.what();
    return SQP_ERROR;
  }
}

void copy_message(const std::string& message, char* err, size_t err_size) {
  if (!err || err_size == 0) return;
  size_t n = std::min(message.size(), err_size - 1);
  std::memcpy(err, message.data(), n);
  err[n] = '\0';
}

// read() parses the file; errors of the model itself get the source prefixed here.
template <class Read>
sqp_policy* load_checked(const std::string& source, unsigned flags, char* err, size_t err_size, Read&& read) {
  try {
    if (flags & ~unsigned(SQP_LOAD_INT8))
      throw LoadError(source + ": unknown load flags " + std::to_string(flags) + "; expected 0 or SQP_LOAD_INT8");
    auto file = read();
    try {
      return new sqp_policy(file, flags & SQP_LOAD_INT8 ? Precision::int8 : Precision::exact);
    } catch (const LoadError& e) {
      throw LoadError(source + ": " + e.what());
    }
  } catch (const std::exception& e) {
    copy_message(e.what(), err, err_size);
    return nullptr;
  }
}

}  // namespace

extern "C" {

sqp_policy* sqp_load(const char* path, char* err, size_t err_size) { return sqp_load_ex(path, 0, err, err_size); }

sqp_policy* sqp_load_memory(const void* data, size_t size, const char* source, char* err, size_t err_size) {
  return sqp_load_memory_ex(data, size, source, 0, err, err_size);
}

sqp_policy* sqp_load_ex(const char* path, unsigned flags, char* err, size_t err_size) {
  copy_message("", err, err_size);
  if (!path) {
    copy_message("sqp_load: path is NULL", err, err_size);
    return nullptr;
  }
  return load_checked(path, flags, err, err_size, [&] { return read_policy_file(path); });
}

sqp_policy* sqp_load_memory_ex(const void* data, size_t size, const char* source, unsigned flags, char* err,
                               size_t err_size) {
  copy_message("", err, err_size);
  const std::string name = source ? source : "(memory)";
  if (!data && size) {
    copy_message(name + ": data is NULL", err, err_size);
    return nullptr;
  }
  return load_checked(name, flags, err, err_size,
                      [&] { return parse_policy_file(std::string(static_cast<const char*>(data), size), name); });
}

void sqp_free(sqp_policy* policy) { delete policy; }

const sqp_info_t* sqp_info(const sqp_policy* policy) { return policy ? &policy->info : nullptr; }

const char* sqp_error(const sqp_policy* policy) { return policy ? policy->error.c_str() : "policy is NULL"; }

int sqp_reset(sqp_policy* p, double target_return) {
  return guarded(p, [&] {
    if (!std::isfinite(target_return)) throw std::invalid_argument("sqp_reset: target_return is not finite");
    for (auto& layer : p->layers) layer.mixer->reset();
    p->rtg = float(target_return / p->info.reward_scale);  // as evaluate.cpp: a float32 tensor of target / scale
    p->t = 0;
    p->action_pending = false;
    p->started = true;
  });
}

int sqp_act(sqp_policy* p, const double* obs, double* action) {
  return guarded(p, [&] {
    if (!p->started) throw std::logic_error("sqp_act: call sqp_reset first");
    if (!obs || !action) throw std::invalid_argument("sqp_act: obs or action is NULL");
    for (int i = 0; i < p->state_dim; ++i)
      if (!std::isfinite(obs[i])) throw std::invalid_argument("sqp_act: obs[" + std::to_string(i) + "] is not finite");
    p->act(obs, action);
    for (int i = 0; i < p->act_dim; ++i)
      if (!std::isfinite(action[i])) {
        p->started = false;  // the carried state is no longer a policy's
        throw std::runtime_error("sqp_act: action[" + std::to_string(i) +
                                 "] is not finite: the policy's arithmetic overflowed; call sqp_reset");
      }
  });
}

int sqp_observe(sqp_policy* p, const double* action, double reward) {
  return guarded(p, [&] {
    if (!p->started) throw std::logic_error("sqp_observe: call sqp_reset first");
    if (!action) throw std::invalid_argument("sqp_observe: action is NULL");
    if (!std::isfinite(reward)) throw std::invalid_argument("sqp_observe: reward is not finite");
    for (int i = 0; i < p->act_dim; ++i) {
      if (!std::isfinite(action[i]))
        throw std::invalid_argument("sqp_observe: action[" + std::to_string(i) + "] is not finite");
      p->input[p->state_dim + i] = float(action[i]);
    }
    // The a_t token runs with the next step's tokens (see the top of this file).
    p->action_pending = true;
    p->rtg = p->rtg - float(reward) / float(p->info.reward_scale);
    ++p->t;
  });
}

}  // extern "C"
