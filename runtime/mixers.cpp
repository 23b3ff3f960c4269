// The runtime's backbones: one line each (the loaders live in runtime/<backbone>.cpp).
#include <utility>

#include "runtime/mixer.h"

namespace sqp {

std::unique_ptr<Mixer> load_gru(const MixerSource&);
std::unique_ptr<Mixer> load_lstm(const MixerSource&);
std::unique_ptr<Mixer> load_mingru(const MixerSource&);
std::unique_ptr<Mixer> load_minlstm(const MixerSource&);
std::unique_ptr<Mixer> load_lru(const MixerSource&);
std::unique_ptr<Mixer> load_s4(const MixerSource&);
std::unique_ptr<Mixer> load_mamba(const MixerSource&);
std::unique_ptr<Mixer> load_mlstm(const MixerSource&);
std::unique_ptr<Mixer> load_slstm(const MixerSource&);
std::unique_ptr<Mixer> load_aaren(const MixerSource&);
std::unique_ptr<Mixer> load_transformer(const MixerSource&);

namespace {
const std::pair<const char*, MixerLoader> kMixers[] = {
    {"transformer", load_transformer},
    {"lstm", load_lstm},
    {"gru", load_gru},
    {"mingru", load_mingru},
    {"minlstm", load_minlstm},
    {"lru", load_lru},
    {"s4", load_s4},
    {"mamba", load_mamba},
    {"mlstm", load_mlstm},
    {"slstm", load_slstm},
    {"aaren", load_aaren},
};
}  // namespace

MixerLoader mixer_loader(const std::string& backbone) {
  for (const auto& [name, loader] : kMixers)
    if (backbone == name) return loader;
  return nullptr;
}

std::string runtime_backbones() {
  std::string names;
  for (const auto& entry : kMixers) names += (names.empty() ? "" : ", ") + std::string(entry.first);
  return names;
}

}  // namespace sqp
