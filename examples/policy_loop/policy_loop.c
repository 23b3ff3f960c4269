/* Acting with an exported policy in a MuJoCo control loop, in C, linking only the seqrl
 * runtime (runtime/sqp.h) and MuJoCo:
 *
 *   seqrl export RUN -o policy.sqp
 *   policy_loop policy.sqp hopper.xml [episodes] [seed]
 *
 * The env is the one the policy was trained for (sqp_info), with Gym v3's observation, reward
 * and termination (HalfCheetah, Hopper, Walker2d; the constants are those of gym 0.18's
 * gym/envs/mujoco/{half_cheetah,hopper,walker2d}_v3.py). The MJCF comes from the command line:
 * the same model seqrl's envs compile. Prints each episode's return and the runtime's µs per
 * step; exits 1 with the runtime's message on any failure. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <math.h>
#include <mujoco/mujoco.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/sqp.h"

typedef struct {
  const char* name;
  int frame_skip;
  double reset_noise; /* uniform ± on qpos and qvel (halfcheetah: qvel Gaussian, see reset) */
  double ctrl_cost;
  double healthy_reward;
  int clip_qvel; /* obs has clip(qvel, -10, 10) */
} env_t;

static const env_t kEnvs[] = {
    {"halfcheetah", 5, 0.1, 0.1, 0.0, 0},
    {"hopper", 4, 5e-3, 1e-3, 1.0, 1},
    {"walker2d", 4, 5e-3, 1e-3, 1.0, 1},
};

static double uniform(double lo, double hi) { return lo + (hi - lo) * (rand() / (RAND_MAX + 1.0)); }
static double gaussian(void) { return sqrt(-2.0 * log(1.0 - uniform(0, 1))) * cos(6.283185307179586 * uniform(0, 1)); }

static void observe(const env_t* env, const mjModel* m, const mjData* d, double* obs) {
  int k = 0;
  for (int i = 1; i < m->nq; ++i) obs[k++] = d->qpos[i];
  for (int i = 0; i < m->nv; ++i) {
    double v = d->qvel[i];
    obs[k++] = env->clip_qvel ? fmin(10.0, fmax(-10.0, v)) : v;
  }
}

static int healthy(const env_t* env, const mjModel* m, const mjData* d) {
  if (strcmp(env->name, "hopper") == 0) {
    for (int i = 2; i < m->nq; ++i)
      if (fabs(d->qpos[i]) >= 100) return 0;
    for (int i = 0; i < m->nv; ++i)
      if (fabs(d->qvel[i]) >= 100) return 0;
    return d->qpos[1] > 0.7 && fabs(d->qpos[2]) < 0.2;
  }
  if (strcmp(env->name, "walker2d") == 0) return d->qpos[1] > 0.8 && d->qpos[1] < 2.0 && fabs(d->qpos[2]) < 1.0;
  return 1;
}

static int fail(const char* what) {
  fprintf(stderr, "policy_loop: %s\n", what);
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: policy_loop POLICY.sqp MODEL.xml [episodes] [seed]\n");
    return 2;
  }
  int episodes = argc > 3 ? atoi(argv[3]) : 1;
  srand(argc > 4 ? (unsigned)atoi(argv[4]) : 0u);
  char err[1024];
  sqp_policy* policy = sqp_load(argv[1], err, sizeof err);
  if (!policy) return fail(err);
  const sqp_info_t* info = sqp_info(policy);
  const env_t* env = NULL;
  for (size_t i = 0; i < sizeof kEnvs / sizeof kEnvs[0]; ++i)
    if (strcmp(info->env, kEnvs[i].name) == 0) env = &kEnvs[i];
  if (!env) {
    snprintf(err, sizeof err, "%s: env '%s' is not one this example runs (halfcheetah, hopper, walker2d)", argv[1],
             info->env);
    sqp_free(policy);
    return fail(err);
  }
  mjModel* m = mj_loadXML(argv[2], NULL, err, sizeof err);
  if (!m) {
    sqp_free(policy);
    return fail(err);
  }
  mjData* d = mj_makeData(m);
  if (m->nq - 1 + m->nv != info->state_dim || m->nu != info->act_dim) {
    snprintf(err, sizeof err, "%s: model has obs %d / act %d, the policy expects %d / %d", argv[2], m->nq - 1 + m->nv,
             m->nu, info->state_dim, info->act_dim);
    mj_deleteData(d);
    mj_deleteModel(m);
    sqp_free(policy);
    return fail(err);
  }
  double* obs = malloc(sizeof(double) * (size_t)info->state_dim);
  double* action = malloc(sizeof(double) * (size_t)info->act_dim);
  const double dt = m->opt.timestep * env->frame_skip;
  int status = 0;
  for (int episode = 0; episode < episodes && status == 0; ++episode) {
    mj_resetData(m, d);
    for (int i = 0; i < m->nq; ++i) d->qpos[i] += uniform(-env->reset_noise, env->reset_noise);
    for (int i = 0; i < m->nv; ++i)
      d->qvel[i] += strcmp(env->name, "halfcheetah") == 0 ? env->reset_noise * gaussian()
                                                          : uniform(-env->reset_noise, env->reset_noise);
    mj_forward(m, d);
    if (sqp_reset(policy, info->target_return) != SQP_OK) break;
    double total = 0, act_seconds = 0;
    int steps = 0;
    for (; steps < 1000; ++steps) {
      observe(env, m, d, obs);
      struct timespec t0, t1;
      clock_gettime(CLOCK_MONOTONIC, &t0);
      if (sqp_act(policy, obs, action) != SQP_OK) break;
      clock_gettime(CLOCK_MONOTONIC, &t1);
      act_seconds += (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
      double x_before = d->qpos[0], cost = 0;
      for (int i = 0; i < m->nu; ++i) {
        d->ctrl[i] = fmin(1.0, fmax(-1.0, action[i]));
        cost += d->ctrl[i] * d->ctrl[i];
      }
      for (int k = 0; k < env->frame_skip; ++k) mj_step(m, d);
      double reward = (d->qpos[0] - x_before) / dt + env->healthy_reward - env->ctrl_cost * cost;
      total += reward;
      if (sqp_observe(policy, action, reward) != SQP_OK) break;
      if (!healthy(env, m, d)) {
        ++steps;
        break;
      }
    }
    if (sqp_error(policy)[0]) {
      status = fail(sqp_error(policy));
      break;
    }
    printf("episode %d: %s, %d steps, return %.2f, runtime %.1f us/step\n", episode, info->env, steps, total,
           1e6 * act_seconds / (steps ? steps : 1));
  }
  free(obs);
  free(action);
  mj_deleteData(d);
  mj_deleteModel(m);
  sqp_free(policy);
  return status;
}
