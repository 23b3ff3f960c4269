#include "runtime/min_rnn.h"

namespace sqp {

SQP_ELEMENTWISE_CLONES void min_rnn_g_inplace(float* x, int n) {
  for (int i = 0; i < n; ++i) x[i] = x[i] >= 0.0f ? x[i] + 0.5f : sigmoid(x[i]);
}

}  // namespace sqp
