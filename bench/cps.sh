#!/usr/bin/env bash
# bench/cps.sh - calls-per-second and memory-per-call benchmark of trunkline.
#
#   SIPp UAC (127.0.0.1)  --UDP-->  trunkline (127.0.0.1)  --UDP-->  SIPp UAS (127.0.0.2)
#                                   media anchored: two RTP/RTCP relay pairs
#                                   per call, SDP rewritten both ways
#
# 1. builds ./cmd/trunkline, writes a config (trunk "uac" inbound, trunk "uas"
#    outbound, route ".*" -> uas), starts it and waits for GET /healthz;
# 2. starts one SIPp UAS (bench/scenarios/uas.xml) on 127.0.0.2;
# 3. warm-up, then MEMORY: MEM_CALLS concurrent long calls, RSS delta / calls;
# 4. CPS: for each rate of RATES, SIPp UAC (bench/scenarios/uac.xml) places
#    rate*DURATION calls at -r rate, each held HOLD_MS; counts ok / failed /
#    retransmitted from SIPp's stat CSV, and trunkline's CPU (utime+stime from
#    /proc/<pid>/stat) over the step; stops at the first step with a failure.
# Prints a table and the highest zero-failure rate. See bench/README.md.
#
# Environment (defaults):
#   RATES="200 400 600 800 1000 1200 1500 2000"  DURATION=30  HOLD_MS=1000
#   MEM=1 MEM_CALLS=1000 MEM_RATE=200 MEM_HOLD_MS=25000   CPS=1
#   SIP_PORT=15060 UAS_PORT=15062 UAC_PORT=15064 API_PORT=18089
#   RTP_PORTS=20000-39999 (10,000 RTP/RTCP pairs: 5,000 anchored calls)
#   OUT=<new dir under /tmp>  TRUNKLINE=<prebuilt binary, skips the build>
#   PERF=1  record `perf record -g` of trunkline during every CPS step
#   KEEP_GOING=1  do not stop at the first failing step
#   MIN_ACHIEVED=0.95  a step passes only if SIPp completed calls at >= this share of
#            the rate (a step that stretches out under load is not sustained)
#   PPROF=1  build trunkline with net/http/pprof on 127.0.0.1:$PPROF_PORT (18090) through
#            `go build -overlay` (the repository is not touched) and save, per step,
#            a CPU profile, the mutex profile, and a heap profile (after a GC)
#   WATCH=S  after the steps, sample calls_active / Go heap / RSS every 5 s for S s
#            (shows how long finished calls stay in memory)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

RATES=${RATES-"200 400 600 800 1000 1200 1500 2000"}
DURATION=${DURATION:-30}
HOLD_MS=${HOLD_MS:-1000}
MEM=${MEM:-1}
MEM_CALLS=${MEM_CALLS:-1000}
MEM_RATE=${MEM_RATE:-200}
MEM_HOLD_MS=${MEM_HOLD_MS:-25000}
CPS=${CPS:-1}
SIP_PORT=${SIP_PORT:-15060}
UAS_PORT=${UAS_PORT:-15062}
UAC_PORT=${UAC_PORT:-15064}
API_PORT=${API_PORT:-18089}
RTP_PORTS=${RTP_PORTS:-20000-39999}
PERF=${PERF:-0}
KEEP_GOING=${KEEP_GOING:-0}
MIN_ACHIEVED=${MIN_ACHIEVED:-0.95}
WATCH=${WATCH:-0}
PPROF=${PPROF:-0}
PPROF_PORT=${PPROF_PORT:-18090}
HOOKS=${HOOKS:-0}                # 1: a global Lua script runs on_invite and on_route on every call
OUT=${OUT:-$(mktemp -d /tmp/trunkline-bench.XXXXXX)}
mkdir -p "$OUT"

TL_IP=127.0.0.1 UAC_IP=127.0.0.1 UAS_IP=127.0.0.2
BUF=4194304                      # SIPp -buff_size (capped by net.core.rmem_max)
CLK_TCK=$(getconf CLK_TCK)

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }

command -v sipp >/dev/null || die "sipp not found (apt-get install sip-tester)"
command -v curl >/dev/null || die "curl not found"

# Enough descriptors: 4 UDP sockets per anchored call (2 RTP/RTCP pairs).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	sleep 0.5
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_busy() { ss -Hlnu "sport = :$1" | grep -q . || ss -Hlnt "sport = :$1" | grep -q .; }
for p in "$SIP_PORT" "$UAS_PORT" "$UAC_PORT" "$API_PORT"; do
	port_busy "$p" && die "port $p is in use (set SIP_PORT/UAS_PORT/UAC_PORT/API_PORT)"
done

# --- trunkline -------------------------------------------------------------
if [[ -n "${TRUNKLINE:-}" ]]; then
	bin=$TRUNKLINE
else
	bin=$OUT/trunkline
	overlay=()
	if [[ "$PPROF" == 1 ]]; then
		# An extra file for package main, added at build time only.
		cat >"$OUT/zz_pprof.go" <<EOF
package main

import (
	"net/http"
	_ "net/http/pprof"
	"runtime"
)

func init() {
	runtime.SetMutexProfileFraction(100)
	go http.ListenAndServe("127.0.0.1:$PPROF_PORT", nil)
}
EOF
		printf '{"Replace":{"%s":"%s"}}\n' "$repo/cmd/trunkline/zz_bench_pprof.go" "$OUT/zz_pprof.go" >"$OUT/overlay.json"
		overlay=(-overlay "$OUT/overlay.json")
	fi
	log "building trunkline -> $bin"
	(cd "$repo" && go build "${overlay[@]}" -o "$bin" ./cmd/trunkline)
fi
[[ "$PPROF" == 1 ]] && port_busy "$PPROF_PORT" && die "PPROF_PORT $PPROF_PORT is in use"
pprof_get() { curl -fsS --max-time $(($2 + 10)) -o "$OUT/$1" "http://127.0.0.1:$PPROF_PORT$3" || log "pprof: $3 failed"; }

cfg=$OUT/trunkline.yaml
cat >"$cfg" <<EOF
# Written by bench/cps.sh.
node: {id: bench, dataDir: "$OUT/data"}
sip:
  listen: ["udp://$TL_IP:$SIP_PORT"]
  advertise: $TL_IP
  drainTimeout: 5s
media:
  rtpPorts: "$RTP_PORTS"
  advertise: $TL_IP
api:
  listen: "$TL_IP:$API_PORT"
sipTrunks:
  - id: uac
    name: SIPp UAC
    type: STATIC
    sourceHosts: ["$UAC_IP/32"]
  - id: uas
    name: SIPp UAS
    type: STATIC
    sourceHosts: ["$UAS_IP/32"]
    destinationHosts: ["$UAS_IP:$UAS_PORT"]
    transport: UDP
routes:
  - id: bench
    name: everything to the UAS
    criteria: [{to: ".*"}]
    destinations:
      - type: ENDPOINT
        value: {type: SIP, sipTrunkId: uas}
EOF
if [[ "$HOOKS" == 1 ]]; then
	# What an operator's routing script does on every call: look at the
	# called number and a header, keep the plan unless told to reverse it.
	cat >>"$cfg" <<'EOF'
scripts:
  - id: bench-hooks
    source: |
      local blocked = {["4490"] = true, ["4470"] = true}
      function on_invite(call)
        if blocked[string.sub(call.to, 1, 4)] then call:reject(403, "blocked") end
        call.vars.tenant = call:header("X-Tenant") or "default"
      end
      function on_route(call, plan)
        if call.vars.tenant == "reverse" then
          local out = {}
          for i = #plan, 1, -1 do out[#out + 1] = plan[i] end
          return out
        end
      end
EOF
fi

api() { curl -fsS --max-time 2 "http://$TL_IP:$API_PORT$1"; }
active() { api /metrics | awk '$1=="trunkline_calls_active"{print int($2); f=1} END{if(!f) print -1}'; }
# until_active CMP N SECONDS: poll calls_active until "active CMP N" (bounded).
until_active() {
	local cmp=$1 n=$2 limit=$3 a deadline=$((SECONDS + $3))
	while ((SECONDS < deadline)); do
		a=$(active 2>/dev/null || echo -1)
		if (( a >= 0 )) && [ "$a" "-$cmp" "$n" ]; then echo "$a"; return 0; fi
		sleep 0.2
	done
	echo "${a:-?}"; return 1
}

log "starting trunkline (logs: $OUT/trunkline.log)"
"$bin" serve --config "$cfg" >"$OUT/trunkline.stdout" 2>"$OUT/trunkline.log" &
TPID=$!
pids+=("$TPID")
deadline=$((SECONDS + 15))
until api /healthz >/dev/null 2>&1; do
	kill -0 "$TPID" 2>/dev/null || die "trunkline exited: $(tail -5 "$OUT/trunkline.log")"
	((SECONDS < deadline)) || die "GET /healthz not 200 within 15s"
	sleep 0.1
done

cpu_ticks() { awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$1/stat"; }
rss_kib() { awk '$1=="VmRSS:"{print $2}' "/proc/$1/status"; }
# machine-wide busy jiffies and total jiffies
sys_ticks() { awk '$1=="cpu"{t=0; for(i=2;i<=NF;i++) t+=$i; print t-$5-$6, t}' /proc/stat; }

# --- SIPp UAS --------------------------------------------------------------
log "starting SIPp UAS on $UAS_IP:$UAS_PORT"
sipp -sf "$here/scenarios/uas.xml" -t u1 -i "$UAS_IP" -p "$UAS_PORT" -bind_local \
	-mp 6000 -nostdin -buff_size "$BUF" -max_recv_loops 10000 -max_sched_loops 10000 \
	-timeout 3600s -trace_stat -stf "$OUT/uas.stat.csv" -fd 1 \
	-trace_err -error_file "$OUT/uas.errors" >"$OUT/uas.out" 2>&1 &
UPID=$!
pids+=("$UPID")
sleep 0.5
kill -0 "$UPID" 2>/dev/null || die "SIPp UAS exited: $(tail -5 "$OUT/uas.out")"

# stat_col FILE NAME: the last value of column NAME of a SIPp stat CSV.
stat_col() {
	awk -F';' -v c="$2" 'NR==1{for(i=1;i<=NF;i++) if($i==c) k=i; next} {v=$k} END{print (v==""?0:v)+0}' "$1"
}

# uac LABEL RATE CALLS HOLD_MS LIMIT_CALLS TIMEOUT_S
uac() {
	local label=$1 rate=$2 calls=$3 hold=$4 lim=$5 to=$6
	rm -f "$OUT/$label".*
	timeout -k 5 $((to + 10)) sipp "$TL_IP:$SIP_PORT" -sf "$here/scenarios/uac.xml" -t u1 \
		-i "$UAC_IP" -p "$UAC_PORT" -bind_local -mp 6100 -s 1000 \
		-r "$rate" -m "$calls" -l "$lim" -d "$hold" -recv_timeout 8000 \
		-nostdin -buff_size "$BUF" -max_recv_loops 10000 -max_sched_loops 10000 \
		-timeout "${to}s" -timeout_error \
		-trace_stat -stf "$OUT/$label.stat.csv" -fd 1 \
		-trace_err -error_file "$OUT/$label.errors" \
		-trace_screen -screen_file "$OUT/$label.screen" >"$OUT/$label.out" 2>&1
}

# --- warm-up ---------------------------------------------------------------
log "warm-up: 500 calls at 100 cps"
uac warmup 100 500 200 1000 40 || log "warm-up SIPp exit $? (see $OUT/warmup.*)"
until_active eq 0 40 >/dev/null || log "warm-up: calls_active did not return to 0"
sleep 2

mem_line="not run"
if [[ "$MEM" == 1 ]]; then
	rss0=$(rss_kib "$TPID")
	log "memory: idle RSS $rss0 KiB; placing $MEM_CALLS calls at $MEM_RATE cps, held ${MEM_HOLD_MS} ms"
	uac mem "$MEM_RATE" "$MEM_CALLS" "$MEM_HOLD_MS" "$MEM_CALLS" $((MEM_HOLD_MS / 1000 + MEM_CALLS / MEM_RATE + 40)) &
	MPID=$!
	pids+=("$MPID")
	if a=$(until_active ge "$MEM_CALLS" $((MEM_CALLS / MEM_RATE + 20))); then
		sleep 2            # let the setup transactions settle
		a=$(active)
		rss1=$(rss_kib "$TPID")
		per=$(awk -v a="$rss0" -v b="$rss1" -v n="$a" 'BEGIN{printf "%.1f", (b-a)/n}')
		mem_line="idle RSS $rss0 KiB, RSS at $a live calls $rss1 KiB -> $per KiB per live call"
		if [[ "$PPROF" == 1 ]]; then
			pprof_get heap.mem.pb.gz 5 "/debug/pprof/heap?gc=1"
			pprof_get goroutine.mem.txt 5 "/debug/pprof/goroutine?debug=1"
			api /metrics >"$OUT/metrics.mem.txt" 2>/dev/null || true
		fi
	else
		mem_line="FAILED: calls_active reached only $a (wanted $MEM_CALLS)"
	fi
	log "memory: $mem_line"
	rc=0; wait "$MPID" || rc=$?
	log "memory: UAC exit $rc ok=$(stat_col "$OUT/mem.stat.csv" 'SuccessfulCall(C)') failed=$(stat_col "$OUT/mem.stat.csv" 'FailedCall(C)')"
	if z=$(until_active eq 0 30); then
		log "memory: calls_active back to 0"
		mem_line+="; calls_active back to 0 after the calls ended"
	else
		log "memory: calls_active still $z 30 s after the calls ended"
		mem_line+="; calls_active still $z after the calls ended"
	fi
	mem_line+="; RSS after $(rss_kib "$TPID") KiB"
fi

# --- CPS steps -------------------------------------------------------------
results=$OUT/results.tsv
printf 'rate\tachieved_cps\tcalls_ok\tfailed\tretrans\tuas_failed\ttl_cpu_pct\tms_cpu_per_call\tmachine_busy_pct\trss_kib\n' >"$results"
best=0
if [[ "$CPS" == 1 ]]; then
	for rate in $RATES; do
		calls=$((rate * DURATION))
		until_active eq 0 30 >/dev/null || log "calls_active not 0 before step $rate"
		uas_f0=$(stat_col "$OUT/uas.stat.csv" 'FailedCall(C)')
		log "step $rate cps: $calls calls, hold ${HOLD_MS} ms"
		if [[ "$PERF" == 1 ]]; then
			perf record -F 499 -g -o "$OUT/perf.$rate.data" -p "$TPID" -- sleep "$DURATION" \
				>"$OUT/perf.$rate.out" 2>&1 &
			pids+=("$!")
		fi
		if [[ "$PPROF" == 1 ]]; then
			pprof_get "cpu.$rate.pb.gz" "$DURATION" "/debug/pprof/profile?seconds=$DURATION" &
			pids+=("$!")
		fi
		c0=$(cpu_ticks "$TPID"); read -r sb0 st0 < <(sys_ticks); t0=$(date +%s.%N)
		rc=0
		uac "step$rate" "$rate" "$calls" "$HOLD_MS" $((rate * (HOLD_MS / 1000 + 10) + 1000)) $((DURATION + 60)) || rc=$?
		t1=$(date +%s.%N); c1=$(cpu_ticks "$TPID"); read -r sb1 st1 < <(sys_ticks)
		rss=$(rss_kib "$TPID")
		if [[ "$PPROF" == 1 ]]; then
			pprof_get "mutex.$rate.pb.gz" 5 /debug/pprof/mutex
			pprof_get "heap.$rate.pb.gz" 5 "/debug/pprof/heap?gc=1"
		fi
		f=$OUT/step$rate.stat.csv
		ok=$(stat_col "$f" 'SuccessfulCall(C)')
		failed=$(stat_col "$f" 'FailedCall(C)')
		retrans=$(stat_col "$f" 'Retransmissions(C)')
		# calls SIPp never completed (killed, timed out) count as failed too
		missing=$((calls - ok - failed)); ((missing > 0)) && failed=$((failed + missing))
		sleep 1.2
		uas_failed=$(( $(stat_col "$OUT/uas.stat.csv" 'FailedCall(C)') - uas_f0 ))
		# achieved rate: calls over the sending window (the step minus the hold)
		row=$(awk -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v hz="$CLK_TCK" -v ok="$ok" \
			-v hold="$HOLD_MS" -v sb0="$sb0" -v sb1="$sb1" -v st0="$st0" -v st1="$st1" 'BEGIN{
			wall=t1-t0; cpu=(c1-c0)/hz; send=wall-hold/1000; if (send<=0) send=wall
			printf "%.0f\t%.1f\t%.3f\t%.0f", ok/send, 100*cpu/wall, (ok>0?1000*cpu/ok:0), 100*(sb1-sb0)/(st1-st0)}')
		IFS=$'\t' read -r ach cpu_pct ms_call busy <<<"$row"
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rate" "$ach" "$ok" "$failed" "$retrans" \
			"$uas_failed" "$cpu_pct" "$ms_call" "$busy" "$rss" >>"$results"
		log "step $rate: exit $rc ok=$ok failed=$failed retrans=$retrans uas_failed=$uas_failed achieved=${ach}cps trunkline_cpu=${cpu_pct}% ${ms_call}ms/call machine_busy=${busy}%"
		slow=$(awk -v a="$ach" -v r="$rate" -v m="$MIN_ACHIEVED" 'BEGIN{print (a < r*m) ? 1 : 0}')
		if ((failed == 0 && uas_failed == 0 && rc == 0 && slow == 0)); then
			best=$rate
		else
			why="failed calls"
			((failed == 0 && uas_failed == 0 && rc == 0)) && why="rate not sustained (${ach} < ${MIN_ACHIEVED} x ${rate} cps)"
			log "step $rate: $why (see $OUT/step$rate.errors, $OUT/step$rate.screen)"
			[[ "$KEEP_GOING" == 1 ]] || break
		fi
	done
fi

# --- retention watch -------------------------------------------------------
if ((WATCH > 0)); then
	log "watching trunkline for ${WATCH} s after the last call"
	end=$((SECONDS + WATCH))
	while ((SECONDS < end)) && kill -0 "$TPID" 2>/dev/null; do
		m=$(api /metrics 2>/dev/null | awk '$1=="trunkline_calls_active"||$1=="go_memstats_heap_alloc_bytes"||$1=="go_memstats_heap_objects"||$1=="go_memstats_stack_inuse_bytes"||$1=="go_goroutines"{printf "%s=%.0f ", $1, $2}')
		log "t+$((WATCH - end + SECONDS))s rss=$(rss_kib "$TPID")KiB threads=$(awk '$1=="Threads:"{print $2}' "/proc/$TPID/status") fds=$(ls "/proc/$TPID/fd" | wc -l) $m"
		sleep 5
	done
fi

if [[ "$PPROF" == 1 ]]; then pprof_get heap.end.pb.gz 5 "/debug/pprof/heap?gc=1"; fi

# --- report ----------------------------------------------------------------
{
	echo
	echo "trunkline CPS benchmark  $(date -u +%FT%TZ)  $(nproc) CPU  $(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)"
	echo "hold ${HOLD_MS} ms, ${DURATION} s per step, UDP, media anchored (relays allocated, no RTP sent), Lua hooks $([[ "$HOOKS" == 1 ]] && echo on || echo off)"
	echo
	column -t -s $'\t' "$results"
	echo
	echo "highest rate with zero failed calls, sustained (achieved >= ${MIN_ACHIEVED} x rate): $best cps"
	echo "memory: $mem_line"
	echo "artifacts: $OUT"
	if [[ "$PPROF" == 1 ]]; then echo "profiles: go tool pprof -top $bin $OUT/cpu.<rate>.pb.gz (also mutex.<rate>, heap.<rate>, heap.end)"; fi
} | tee "$OUT/report.txt"

kill -0 "$TPID" 2>/dev/null || log "WARNING: trunkline is no longer running"
