# Shared by scripts/bench-redrive and scripts/bench-scan (sourced, not run): LocalStack 4.12 on
# loopback in .venv-localstack, the delay proxy in front of it, and stopping by PID what was
# started, also on Ctrl-C, error or when the calling shell is killed with SIGKILL.
#
# The caller sets ROOT, WORK and KEEP, then calls ls_install, ls_start, delay_proxy_start DELAY_MS.
# After that: LS_PID, LS_PORT, LS_URL, PROXY_PID, PROXY_URL.
#
# LocalStack is started per shared docs local-testing.md (hypercorn, bound to 127.0.0.1 only),
# with three additions: cloudwatch in SERVICES (ecomm asks CloudWatch for the oldest message's
# age) with SQS_DISABLE_CLOUDWATCH_METRICS=1 (else LocalStack writes two metrics per message
# sent and burns most of a core for minutes after seeding, slowing every client), and
# IN_MEMORY_CLIENT (LocalStack's own EventBridge->SQS delivery then skips an HTTP round trip
# through its gateway: the endpoint is less of a bottleneck; IN_MEMORY_CLIENT=0 to turn off).

LS_VENV=$ROOT/.venv-localstack
LS_REQUIREMENTS=$ROOT/scripts/bench/requirements-localstack.txt
PY=$LS_VENV/bin/python
IN_MEMORY_CLIENT=${IN_MEMORY_CLIENT:-1}
LS_PID=
PROXY_PID=
WATCHED_PIDS=()
WATCHDOG_PID=

stop_pid() { # stop_pid PID NAME: TERM, wait up to 10 s, then KILL. Only that PID.
    local pid=$1 name=$2
    [[ -n $pid ]] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in {1..100}; do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "bench: $name (pid $pid) ignored SIGTERM; killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
    echo "bench: stopped $name (pid $pid)"
}

# If the calling shell is killed with SIGKILL no trap runs: a watchdog then stops what it
# started. watch_pid PID adds one and restarts the watchdog over all of them.
watch_pid() {
    WATCHED_PIDS+=("$1")
    if [[ -n $WATCHDOG_PID ]]; then
        kill -TERM "$WATCHDOG_PID" 2>/dev/null || true
        wait "$WATCHDOG_PID" 2>/dev/null || true
    fi
    local parent=$$ pids="${WATCHED_PIDS[*]}"
    (
        trap '' INT
        while kill -0 "$parent" 2>/dev/null; do sleep 1; done
        for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
    ) </dev/null >/dev/null 2>&1 &
    WATCHDOG_PID=$!
}

stop_watchdog() {
    if [[ -n $WATCHDOG_PID ]]; then
        kill -TERM "$WATCHDOG_PID" 2>/dev/null || true
        wait "$WATCHDOG_PID" 2>/dev/null || true
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

cpu_seconds() { # user+system seconds of a live process, from /proc
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}

ls_install() {
    echo "==> LocalStack 4.12 in .venv-localstack"
    if [[ -x $PY ]] && cmp -s "$LS_REQUIREMENTS" "$LS_VENV/.installed-requirements" &&
        "$PY" -c 'import localstack, boto3' 2>/dev/null; then
        echo "bench: reusing $LS_VENV"
    else
        rm -rf "$LS_VENV"
        python3 -m venv "$LS_VENV"
        "$LS_VENV/bin/pip" install -q --disable-pip-version-check -r "$LS_REQUIREMENTS"
        cp "$LS_REQUIREMENTS" "$LS_VENV/.installed-requirements"
    fi
    "$PY" -c 'import importlib.metadata as m; print("bench: localstack-core", m.version("localstack-core"), "boto3", m.version("boto3"))'
}

ls_start() {
    echo "==> starting LocalStack on loopback"
    local log=$WORK/localstack.log attempt ready
    for attempt in 1 2 3; do
        LS_PORT=$(free_port)
        env GATEWAY_LISTEN="127.0.0.1:$LS_PORT" LOCALSTACK_HOST="127.0.0.1:$LS_PORT" GATEWAY_SERVER=hypercorn \
            DNS_ADDRESS=0 SQS_ENDPOINT_STRATEGY=path SERVICES=sqs,events,logs,lambda,dynamodb,cloudwatch,sts \
            DISABLE_EVENTS=1 SKIP_INFRA_DOWNLOADS=1 IN_MEMORY_CLIENT="$IN_MEMORY_CLIENT" \
            SQS_DISABLE_CLOUDWATCH_METRICS=1 \
            "$PY" -m localstack.runtime.main >"$log" 2>&1 </dev/null &
        LS_PID=$!
        watch_pid "$LS_PID"
        ready=false
        for _ in {1..240}; do
            kill -0 "$LS_PID" 2>/dev/null || break
            if curl -sf --max-time 2 "http://127.0.0.1:$LS_PORT/_localstack/health" 2>/dev/null |
                "$PY" -c 'import json,sys; s=json.load(sys.stdin)["services"]; sys.exit(0 if all(s.get(k) in ("available","running") for k in ("sqs","events","sts")) else 1)' 2>/dev/null; then
                ready=true
                break
            fi
            sleep 0.5
        done
        $ready && break
        echo "bench: LocalStack did not come up (attempt $attempt); its log:" >&2
        tail -20 "$log" | sed 's/^/  localstack| /' >&2
        stop_pid "$LS_PID" "LocalStack"
        LS_PID=
        ((attempt < 3)) || exit 1
    done
    if ss -ltnp 2>/dev/null | grep "pid=$LS_PID," | grep -v '127.0.0.1:' | grep -q .; then
        echo "error: LocalStack listens beyond loopback:" >&2
        ss -ltnp | grep "pid=$LS_PID," >&2
        exit 1
    fi
    LS_URL=http://127.0.0.1:$LS_PORT
    echo "bench: LocalStack pid $LS_PID on $LS_URL (IN_MEMORY_CLIENT=$IN_MEMORY_CLIENT; log $log)"
}

delay_proxy_start() { # delay_proxy_start DELAY_MS
    echo "==> starting the delay proxy ($1 ms per request, client connections kept open as AWS keeps them)"
    local port
    port=$(free_port)
    "$PY" "$ROOT/scripts/bench/delay_proxy.py" --listen-port "$port" --upstream-port "$LS_PORT" --delay-ms "$1" \
        --ready-file "$WORK/proxy.ready" >"$WORK/proxy.log" 2>&1 </dev/null &
    PROXY_PID=$!
    watch_pid "$PROXY_PID"
    for _ in {1..100}; do
        [[ -s $WORK/proxy.ready ]] && break
        kill -0 "$PROXY_PID" 2>/dev/null || { cat "$WORK/proxy.log" >&2; exit 1; }
        sleep 0.1
    done
    [[ -s $WORK/proxy.ready ]] || { echo "the delay proxy did not start" >&2; exit 1; }
    PROXY_URL=http://127.0.0.1:$port
    # Check the delay: one request through the proxy vs direct.
    "$PY" -c 'import sys, time, urllib.request
def t(url):
    best = 1e9
    for _ in range(5):
        s = time.perf_counter(); urllib.request.urlopen(url + "/_localstack/health").read(); best = min(best, time.perf_counter() - s)
    return best * 1000
print(f"bench: health check round trip {t(sys.argv[1]):.1f} ms direct, {t(sys.argv[2]):.1f} ms through the proxy")' "$LS_URL" "$PROXY_URL"
}

# The environment of an ecomm run against LocalStack: static test credentials, nothing from
# the user's AWS configuration. Use as: "${ECOMM_ENV[@]}" "$ECOMM" ...
ECOMM_ENV=(env -u AWS_SESSION_TOKEN -u AWS_PROFILE -u AWS_ENDPOINT_URL -u AWS_ENDPOINT_URL_SQS
    AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
    AWS_EC2_METADATA_DISABLED=true NO_COLOR=1)
