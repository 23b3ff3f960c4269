// The torch device a run asks for, one rule for every command.
#pragma once
#include <torch/torch.h>

#include <string>

namespace seqrl {

// "cpu", "cuda", or "auto" (cuda when LibTorch sees a device, else cpu). Throws seqrl::Error
// naming `key` (the setting or flag, e.g. "run.device") when cuda is asked for and absent.
torch::Device pick_device(const std::string& name, const std::string& key = "run.device");

}  // namespace seqrl
