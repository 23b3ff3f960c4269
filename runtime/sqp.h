/* seqrl policy runtime: acts with a policy exported by `seqrl export` (a .sqp file, layout in
 * runtime/sqp_format.h), without LibTorch or any other dependency. One env step at a time,
 * carrying the backbone's state, exactly as DecisionModel's recurrent acting does:
 *
 *   sqp_policy* p = sqp_load("policy.sqp", err, sizeof err);   // NULL on failure, err says why
 *   sqp_reset(p, sqp_info(p)->target_return);                  // a new episode
 *   loop: sqp_act(p, obs, action);          // R_t and s_t tokens -> a_t in (-1, 1)
 *         ...step the env with action, receive reward...
 *         sqp_observe(p, action, reward);   // the a_t token; return-to-go -= reward
 *   sqp_free(p);
 *
 * Errors are values: functions return SQP_OK (0) or a negative code and leave a one-line
 * message in sqp_error(p); nothing aborts. sqp_act and sqp_observe allocate nothing.
 * A policy is not thread-safe; use one per thread (or per parallel episode). */
#ifndef SEQRL_RUNTIME_SQP_H
#define SEQRL_RUNTIME_SQP_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { SQP_OK = 0, SQP_ERROR = -1 };

typedef struct sqp_policy sqp_policy;

typedef struct sqp_info_t {
  const char* backbone; /* "mingru", ... */
  const char* env;      /* the env it was trained for, "hopper", ... */
  int state_dim, act_dim, dim, layers;
  double reward_scale;  /* returns-to-go are divided by it */
  double target_return; /* the default target (unscaled) */
  const char* weights;  /* "float32" or "float16": the weight matrices as stored (seqrl export --dtype);
                           "int8" when loaded with SQP_LOAD_INT8 */
} sqp_info_t;

/* sqp_load_ex flags. SQP_LOAD_INT8: the backbone's matrices (mixers and MLPs; not the
 * embeddings, the action head or mLSTM's gate projection) act in int8, as dynamic quantization
 * does: weights rounded per output row, each input row rounded at every step, exact integer sums
 * (runtime/ops.h has the arithmetic). Several times faster where the CPU has AVX512-VNNI;
 * elsewhere the same actions come from float loops, no faster than float32. It changes the
 * actions (by ~1e-2 on a trained model): check the scores with `seqrl eval --runtime --dtype int8`. */
enum { SQP_LOAD_INT8 = 1 };

/* Loads and checks a policy file. Returns NULL on failure with a one-line message in
 * err[0..err_size) naming the file and what was wrong (truncated, wrong magic or version,
 * sizes that do not add up, a NaN, an unsupported backbone). err may be NULL. */
sqp_policy* sqp_load(const char* path, char* err, size_t err_size);
/* The same from a file's bytes already in memory; `source` names them in messages. */
sqp_policy* sqp_load_memory(const void* data, size_t size, const char* source, char* err, size_t err_size);
/* sqp_load and sqp_load_memory with SQP_LOAD_* flags (0: as they load); unknown flags fail. */
sqp_policy* sqp_load_ex(const char* path, unsigned flags, char* err, size_t err_size);
sqp_policy* sqp_load_memory_ex(const void* data, size_t size, const char* source, unsigned flags, char* err,
                               size_t err_size);
void sqp_free(sqp_policy* policy);

const sqp_info_t* sqp_info(const sqp_policy* policy);
/* The message of the last failed call on this policy ("" if none). */
const char* sqp_error(const sqp_policy* policy);

/* Starts an episode: fresh state, timestep 0, return-to-go target_return / reward_scale. */
int sqp_reset(sqp_policy* policy, double target_return);
/* obs[state_dim] (raw, unnormalized) -> action[act_dim]. Fails on a non-finite observation,
 * and when the policy's arithmetic overflows to a non-finite action (weights far beyond any
 * trained model's); the episode then needs sqp_reset before the next sqp_act. */
int sqp_act(sqp_policy* policy, const double* obs, double* action);
/* The action actually taken at this step (normally the one sqp_act returned) and the reward
 * received; advances the timestep. */
int sqp_observe(sqp_policy* policy, const double* action, double reward);

#ifdef __cplusplus
}
#endif

#endif
