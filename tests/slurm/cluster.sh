# A single-node Slurm on localhost for the tests: slurmctld and slurmd started without systemd,
# from a slurm.conf generated in a temporary directory, and stopped by the PIDs they wrote.
# Source it; then
#   cluster_start DIR PLUGSTACK_FILE GPUS SHARDS_PER_GPU   writes the conf, starts both daemons,
#                                     waits (at most 20 s) until the node is idle; 0 or 1
#   cluster_stop                      stops exactly the two daemons it started (TERM, then KILL)
# SLURM_CONF is exported, so every client (srun, sbatch, sinfo) reads the same conf. The ports
# are chosen from this shell's PID, so that two worktrees' tests on one machine do not meet.

cluster_pids=()

# cluster_free_port N: N, or the next port nothing listens on.
cluster_free_port() {
    local p=$1
    while ss -Htln "sport = :$p" 2>/dev/null | grep -q .; do p=$((p + 1)); done
    echo "$p"
}

cluster_start() {
    local dir=$1 plugstack=$2 gpus=$3 shards=$4 host
    host=$(hostname -s)
    mkdir -p "$dir/spool" "$dir/state" "$dir/dev"
    chmod 755 "$dir" "$dir/spool"
    local base=$((20000 + ($$ % 20000) * 2))
    local ctld_port slurmd_port
    ctld_port=$(cluster_free_port "$base")
    slurmd_port=$(cluster_free_port $((ctld_port + 1)))
    local files="" i
    # slurmd wants character devices: nodes like /dev/null's stand in for the GPUs.
    for ((i = 0; i < gpus; i++)); do rm -f "$dir/dev/nvidia$i"; mknod -m 666 "$dir/dev/nvidia$i" c 1 3 || return 1; done
    {
        echo "Name=gpu Type=sim File=$dir/dev/nvidia[0-$((gpus - 1))]"
        for ((i = 0; i < gpus; i++)); do
            echo "Name=shard Count=$shards File=$dir/dev/nvidia$i"
        done
    } >"$dir/gres.conf"
    cat >"$dir/slurm.conf" <<CONF
ClusterName=greytest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/none
CredType=cred/none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
DefMemPerCPU=100
MpiDefault=none
ReturnToService=2
SchedulerType=sched/builtin
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldDebug=info
SlurmdDebug=debug
PlugStackConfig=$plugstack
GresTypes=gpu,shard
MailProg=/bin/true
KillWait=2
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=2000 Gres=gpu:sim:$gpus,shard:$((gpus * shards)) State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=10 State=UP OverSubscribe=YES
CONF
    export SLURM_CONF=$dir/slurm.conf
    # Each daemon's PID is recorded as soon as it has one, before the next is started, so that
    # cluster_stop stops whatever did start when the other did not. The files vanish before the
    # processes exit: read them now.
    local t daemon
    for daemon in slurmctld slurmd; do
        if [ $daemon = slurmctld ]; then slurmctld -f "$dir/slurm.conf" -c -i || return 1
        else slurmd -f "$dir/slurm.conf" -c || return 1; fi
        for ((t = 0; t < 100; t++)); do
            [ -s "$dir/$daemon.pid" ] && break
            sleep 0.1
        done
        [ -s "$dir/$daemon.pid" ] || { echo "cluster: $daemon wrote no PID file in 10 s" >&2; return 1; }
        cluster_pids+=("$(cat "$dir/$daemon.pid")")
    done
    for ((t = 0; t < 200; t++)); do
        sinfo -h -o %t 2>/dev/null | grep -qx idle && return 0
        sleep 0.1
    done
    return 1
}

cluster_stop() {
    local p t
    for p in "${cluster_pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for ((t = 0; t < 50; t++)); do
        local alive=0
        for p in "${cluster_pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ $alive -eq 0 ] && break
        sleep 0.1
    done
    for p in "${cluster_pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
    cluster_pids=()
}
