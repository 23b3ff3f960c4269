#include "envs/model.h"

#include <cstring>
#include <map>
#include <mutex>

#include "core/error.h"
#include "envs/assets/half_cheetah_xml.h"
#include "envs/assets/hopper_xml.h"
#include "envs/assets/walker2d_xml.h"
#include "envs/env.h"

namespace seqrl {
namespace {

const char* model_xml(const std::string& canonical) {
  if (canonical == "halfcheetah") return assets::kHalfCheetahXml;
  if (canonical == "hopper") return assets::kHopperXml;
  return assets::kWalker2dXml;
}

std::shared_ptr<const mjModel> compile(const std::string& canonical) {
  const std::string file = canonical + ".xml";
  const char* xml = model_xml(canonical);
  auto vfs = std::make_unique<mjVFS>();  // ~2 MB of fixed name slots: not for the stack
  mj_defaultVFS(vfs.get());
  const int len = static_cast<int>(std::strlen(xml));
  if (mj_makeEmptyFileVFS(vfs.get(), file.c_str(), len) != 0) throw Error(file + ": cannot create a MuJoCo VFS entry");
  std::memcpy(vfs->filedata[vfs->nfile - 1], xml, len);
  char err[1000] = "";
  mjModel* m = mj_loadXML(file.c_str(), vfs.get(), err, sizeof(err));
  mj_deleteVFS(vfs.get());
  if (!m) throw Error(file + ": MuJoCo could not compile the built-in model: " + err);
  return std::shared_ptr<const mjModel>(m, [](const mjModel* p) { mj_deleteModel(const_cast<mjModel*>(p)); });
}

}  // namespace

std::shared_ptr<const mjModel> env_model(const std::string& env) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const mjModel>> cache;
  const std::string canonical = env_spec(env).name;
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = cache[canonical];
  if (!slot) slot = compile(canonical);
  return slot;
}

}  // namespace seqrl
