# Shared by the benchmark scripts: run from the project root, after `make demo`.

# Prints "wall cpu" in seconds for one run of the named shell function (children's CPU included).
measure() {
    local start end cpu_before cpu_after self=$BASHPID  # children's CPU is counted in ours once reaped
    cpu_before=$(awk '{print $14 + $15 + $16 + $17}' /proc/$self/stat)
    start=$(date +%s.%N)
    "$1"
    end=$(date +%s.%N)
    cpu_after=$(awk '{print $14 + $15 + $16 + $17}' /proc/$self/stat)
    awk -v s="$start" -v e="$end" -v a="$cpu_before" -v b="$cpu_after" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { printf "%.3f %.3f\n", e - s, (b - a) / hz }'
}

# The median of the numbers on standard input, one a line.
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# A heading line for RESULTS.md: date, what, cores and processor.
machine_heading() {
    echo "### $(date -u +%Y-%m-%d) · $1 · $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
}
