"""PyTorch Decision Transformer window acting, µs per env step at batch 1 on one thread.

The reference point for `seqrl bench act`: DT's evaluation (Chen et al. 2021, gym experiments)
re-runs its GPT over the last K = 20 steps (60 tokens) every env step. This is a plain PyTorch
GPT of DT's gym size (3 layers, width 128, 1 head, MLP 4x, GELU, pre-norm, learned timestep
embedding, tanh action head), freshly initialized — timing does not depend on the weights.
It is a stand-in written for this benchmark, not the DT repository's code (which wraps
HuggingFace's GPT-2); the arithmetic per step is the same.

    PYTHONPATH=/path/to/torch python3 bench/pytorch_dt_act.py [--steps 300] [--context 20]
"""
import argparse
import math
import time

import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.fc1, self.fc2 = nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)
        self.heads = heads

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(d // self.heads)
        scores = scores.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), float("-inf"))
        x = x + self.proj((scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d))
        return x + self.fc2(nn.functional.gelu(self.fc1(self.norm2(x))))


class DecisionTransformer(nn.Module):
    def __init__(self, obs, act, dim=128, layers=3, heads=1, max_ep_len=1000):
        super().__init__()
        self.embed_return, self.embed_state, self.embed_action = nn.Linear(1, dim), nn.Linear(obs, dim), nn.Linear(act, dim)
        self.embed_time = nn.Embedding(max_ep_len, dim)
        self.norm, self.final = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.blocks = nn.ModuleList(Block(dim, heads) for _ in range(layers))
        self.head = nn.Linear(dim, act)

    def forward(self, states, actions, rtg, steps):
        time_emb = self.embed_time(steps)
        tokens = torch.stack([self.embed_return(rtg) + time_emb, self.embed_state(states) + time_emb,
                              self.embed_action(actions) + time_emb], 2).flatten(1, 2)
        h = self.norm(tokens)
        for block in self.blocks:
            h = block(h)
        return torch.tanh(self.head(self.final(h)[:, 1::3]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--context", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    obs, act, k = 11, 3, args.context
    model = DecisionTransformer(obs, act).eval()
    states, actions = torch.randn(1, k, obs), torch.zeros(1, k, act)
    rtg, steps = torch.full((1, k, 1), 1.8), torch.arange(k).unsqueeze(0)
    new_obs = torch.randn(args.steps + 10, obs)

    def act_steps(n):
        nonlocal states, actions
        for t in range(n):
            states = torch.cat([states[:, 1:], new_obs[t].view(1, 1, obs)], 1)
            a = model(states, actions, rtg, steps)[:, -1]
            actions = torch.cat([actions[:, 1:], a.view(1, 1, act)], 1)

    with torch.inference_mode():
        act_steps(10)
        cpu0, wall0 = time.thread_time(), time.perf_counter()
        act_steps(args.steps)
        cpu, wall = time.thread_time() - cpu0, time.perf_counter() - wall0
    print(f"pytorch {torch.__version__} DT window acting, K {k}, batch 1, 1 thread: "
          f"{1e6 * cpu / args.steps:.1f} us per env step thread CPU time ({1e6 * wall / args.steps:.1f} wall)")


if __name__ == "__main__":
    main()
