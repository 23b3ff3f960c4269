// Checkpoints: one torch archive file per checkpoint holding named modules, optimizers,
// tensors, numbers and texts — everything a run needs to resume bit-identically.
// The archive is built in memory, followed by a trailer "SEQRLCK1" + FNV-1a-64 of the archive
// bytes, and saved atomically (temp + rename): a run killed mid-save, or a full disk, keeps the
// previous checkpoint. Loading verifies the checksum, so a flipped byte is an error, not a
// different model.
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
  // Serializes (once; add nothing after the first save) and writes atomically. Saving the same
  // writer to a second path (step_N.pt, then last.pt) writes the same bytes.
  void save(const std::string& path);

 private:
  torch::serialize::OutputArchive archive_;
  std::string bytes_;
};

class CheckpointReader {
 public:
  // Throws seqrl::Error naming the path if it is missing, not a checkpoint, or fails its
  // checksum. A file without a trailer (written before checksums) loads with a warning.
  explicit CheckpointReader(const std::string& path);
  // Whether the checkpoint holds an entry (tensor, number, text or module) of that name.
  bool has(const std::string& name);
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

// Opens the checkpoint `path` names (as resolve_checkpoint). For a run folder or its last.pt,
// a corrupt last.pt falls back to the newest intact step_N.pt with a warning naming both.
CheckpointReader open_checkpoint(const std::string& path);

}  // namespace seqrl
