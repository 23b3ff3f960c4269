/* The .sqp policy file, version 2: everything needed to act with a trained decision model
 * without LibTorch. Written by `seqrl export`, read by the runtime (runtime/sqp.h).
 *
 * All numbers are little-endian; there is no padding between fields.
 *
 *   offset  size  field
 *   0       8     magic "SEQRLSQP"
 *   8       4     u32 version (SQP_VERSION)
 *   12      4     u32 dtype of the weights: SQP_DTYPE_F32 = 1 (every tensor is IEEE-754 binary32)
 *                     or SQP_DTYPE_F16 = 2 (weight matrices in binary16; each tensor says which)
 *   16      32    backbone name, ASCII, NUL-padded ("mingru", "transformer", ...)
 *   48      32    env name, ASCII, NUL-padded ("hopper", ...); informative
 *   80      4     u32 state_dim      observation width
 *   84      4     u32 act_dim        action width
 *   88      4     u32 dim            model width D
 *   92      4     u32 layers         residual blocks
 *   96      4     u32 heads          model.heads (the transformer's attention heads)
 *   100     4     u32 max_ep_len     timestep-embedding rows; later timesteps reuse the last
 *   104     4     u32 max_tokens     the transformer's KV-cache length (3 * context), at most
 *                                      SQP_MAX_TOKENS
 *   108     4     u32 tensor_count
 *   112     8     f64 reward_scale   returns-to-go are divided by it
 *   120     8     f64 target_return  the default target return (unscaled)
 *   128     4*S   f32 state_mean[state_dim]
 *   ...     4*S   f32 state_std[state_dim]      the policy sees (obs - mean) / std
 *   then tensor_count tensors, each:
 *           4     u32 name length L (1..255)
 *           L     name, ASCII, the model's parameter name ("backbone.layers.0.mixer.in_proj.weight")
 *           4     u32 rank R (1..4)
 *           4*R   u32 sizes, outermost first
 *           4     u32 dtype of this tensor (1 or 2; 2 only in a file whose header says 2)
 *           4*N   f32 values, row-major (N = product of sizes), or 2*N bytes of binary16
 *   and the file ends there: a reader rejects trailing bytes.
 *
 * The tensors are the decision model's named parameters (models/decision_model.h) as LibTorch
 * names them; the runtime looks each up by name and checks its shape, so a new field is a new
 * name and old readers reject files they cannot act with instead of misreading them.
 * Every value must be finite. A change of layout bumps SQP_VERSION. */
#ifndef SEQRL_RUNTIME_SQP_FORMAT_H
#define SEQRL_RUNTIME_SQP_FORMAT_H

#define SQP_MAGIC "SEQRLSQP"
#define SQP_MAGIC_SIZE 8
#define SQP_VERSION 2
#define SQP_DTYPE_F32 1
#define SQP_DTYPE_F16 2
#define SQP_NAME_SIZE 32
#define SQP_HEADER_SIZE 128
#define SQP_MAX_TENSOR_NAME 255
#define SQP_MAX_RANK 4
/* 3 x the longest model.context a config accepts (4096). The runtime sizes its KV caches from
 * max_tokens before any weight is used, so without this bound a few-kilobyte file could ask
 * for gigabytes. */
#define SQP_MAX_TOKENS 12288

#endif
