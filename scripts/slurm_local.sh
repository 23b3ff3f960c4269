#!/usr/bin/env bash
# A private one-node Slurm cluster on localhost (munged + slurmctld + slurmd), for the sweep
# tests and for trying `seqrl sweep --slurm` without a cluster. Everything lives under DIR:
# config, sockets, logs, state. Nothing system-wide is touched, so it can run beside a real
# installation or other test clusters (ports are picked at random). The sockets alone go to a
# short folder in /tmp (a socket path has at most 108 bytes); `stop` removes it.
#
#   scripts/slurm_local.sh start DIR   # prints `export SLURM_CONF=DIR/slurm.conf`; waits until the node is idle
#   scripts/slurm_local.sh stop DIR
#
# Needs the Debian packages slurm-wlm and munge (scripts/setup.sh installs them).
set -euo pipefail
cmd="${1:?usage: slurm_local.sh start|stop DIR}"
dir="$(mkdir -p "${2:?usage: slurm_local.sh start|stop DIR}" && cd "$2" && pwd)"

stop() {
  for name in slurmd slurmctld munged; do
    if [ -f "$dir/$name.pid" ]; then
      pid="$(cat "$dir/$name.pid")"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      rm -f "$dir/$name.pid"
    fi
  done
  if [ -f "$dir/sockets" ]; then rm -rf "$(cat "$dir/sockets")"; rm -f "$dir/sockets"; fi
}

fail() {
  echo "slurm_local.sh: $*" >&2
  for log in "$dir"/*.log; do [ -f "$log" ] && { echo "--- $log" >&2; tail -n 20 "$log" >&2; }; done
  stop
  exit 1
}

# A random high port; one that is taken makes the daemon fail to start, loudly (its log is shown).
free_port() { echo $((20000 + RANDOM % 40000)); }

if [ "$cmd" = stop ]; then stop; exit 0; fi
[ "$cmd" = start ] || { echo "usage: slurm_local.sh start|stop DIR" >&2; exit 2; }
for bin in munged slurmctld slurmd sbatch sinfo; do
  command -v "$bin" >/dev/null || fail "$bin not found: install slurm-wlm and munge (scripts/setup.sh)"
done
stop
# Unix socket paths are limited to 108 bytes: munged's socket and slurmstepd's (in the spool
# folder, named <node>_<job>.<step>) live in a short folder of their own, not under DIR.
sockets="$(mktemp -d /tmp/slurm-local.XXXXXX)"
echo "$sockets" >"$dir/sockets"
mkdir -p "$dir/munge" "$dir/state" "$sockets/spool"
chmod 700 "$dir/munge"
user="$(id -un)"
host="$(hostname -s)"
cpus="$(nproc)"
mem_mb="$(awk '/MemTotal/ {print int($2 / 1024 / 2)}' /proc/meminfo)"

# munge: a fresh key, our own socket.
head -c 1024 /dev/urandom >"$dir/munge/munge.key"
chmod 400 "$dir/munge/munge.key"
munged --force --socket="$sockets/munge.socket" --key-file="$dir/munge/munge.key" \
  --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/seed" \
  || fail "munged did not start"

cat >"$dir/slurm.conf" <<CONF
ClusterName=seqrl-local
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
AuthInfo=socket=$sockets/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$sockets/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
SwitchType=switch/none
LaunchParameters=use_interactive_step
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"
slurmctld -f "$SLURM_CONF" || fail "slurmctld did not start"
slurmd -f "$SLURM_CONF" || fail "slurmd did not start"
for _ in $(seq 100); do
  state="$(sinfo -h -o %t 2>/dev/null | head -n1 || true)"
  [ "$state" = idle ] && { echo "export SLURM_CONF=$SLURM_CONF"; exit 0; }
  sleep 0.3
done
fail "the node did not become idle in 30 s (state: ${state:-none})"
