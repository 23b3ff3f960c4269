// Checkpoints: one torch archive file per checkpoint holding named modules, optimizers,
// tensors, numbers and texts — everything a run needs to resume bit-identically.
// Saved atomically (temp + rename): a run killed mid-save keeps its previous checkpoint.
#pragma once
#include <torch/torch.h>

#include <string>

namespace seqrl {

class CheckpointWriter {
 public:
  void module(const std::string& name, torch::nn::Module& module);
  void optimizer(const std::string& name, torch::optim::Optimizer& optimizer);
  void tensor(const std::string& name, const torch::Tensor& tensor);
  void number(const std::string& name, double value);
  void text(const std::string& name, const std::string& value);
  // The default CPU generator's state (dropout masks, sampling in torch ops).
  void torch_rng(const std::string& name = "torch_rng");
  void save(const std::string& path);

 private:
  torch::serialize::OutputArchive archive_;
};

class CheckpointReader {
 public:
  // Throws seqrl::Error naming the path if it is missing or not a checkpoint.
  explicit CheckpointReader(const std::string& path);
  // Each throws seqrl::Error naming the path and the missing/mismatched entry.
  void module(const std::string& name, torch::nn::Module& module);
  void optimizer(const std::string& name, torch::optim::Optimizer& optimizer);
  torch::Tensor tensor(const std::string& name);
  double number(const std::string& name);
  std::string text(const std::string& name);
  void torch_rng(const std::string& name = "torch_rng");
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  torch::serialize::InputArchive archive_;
};

// "RUN/checkpoints/step_N" or "RUN/checkpoints/last" (with or without ".pt"), or a run folder
// (meaning its last checkpoint) -> the checkpoint file's path. Throws seqrl::Error if absent.
std::string resolve_checkpoint(const std::string& path);

}  // namespace seqrl
