#!/usr/bin/env bash
# Issue 13: `storedesk inspect -` throughput — keys per second from a
# 100,000-line file, in one process, on one core. Reports wall time and CPU
# time (user + sys); on a shared machine the CPU figure is the one that
# says what one core does. With jwtui on PATH (`cargo install jwt-ui
# --locked`) it also times `jwtui -s -n KEY` run once per key over the
# first 1,000 keys and prints the per-key ratio.
# Usage: benches/inspect_stream.sh [KEYS]
set -euo pipefail
cd "$(dirname "$0")/.."
keys="${1:-100000}"
cargo build --release --quiet

b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
claims="http://schemas.microsoft.com/marketplace/2015/08/claims/key"
now=$(date +%s)
opaque=$(head -c 600 /dev/zero | tr '\0' 'A')
header=$(printf '{"typ":"JWT","alg":"RS256","x5t":"l3Sd3kW3Vw2cE-Jg6bTnZ3HkM9A","kid":"l3Sd3kW3Vw2cE-Jg6bTnZ3HkM9A"}' | b64url)
payload=$(printf '{"%s/clientId":"1d5a5b63-6b4f-4b11-8b1e-6f3b2a7c8d9e","%s/payload":"%s","%s/userId":"amFjb2JAY29udG9zby5jb20","%s/refreshUri":"https://collections.mp.microsoft.com/v6.0/b2b/keys/renew","iss":"https://collections.mp.microsoft.com/v6.0/keys","aud":"https://collections.mp.microsoft.com/v6.0/keys","iat":%d,"nbf":%d,"exp":%d}' \
    "$claims" "$claims" "$opaque" "$claims" "$claims" $((now - 86400)) $((now - 86400)) $((now + 29 * 86400)) | b64url)
signature=$(head -c 256 /dev/urandom | b64url)
key="$header.$payload.$signature"

data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
file="$data/keys.txt"
awk -v k="$key" -v n="$keys" 'BEGIN { for (i = 0; i < n; i++) print k }' >"$file"
echo "$keys keys of ${#key} bytes, $(du -h "$file" | cut -f1) of input"

run() { # label, args...
    local label=$1
    shift
    local t
    # bash's `time`: wall, user and sys seconds of the one process.
    t=$( { TIMEFORMAT='%R %U %S'; time target/release/storedesk --data-dir "$data/d" inspect - "$@" <"$file" >/dev/null || true; } 2>&1 | tail -1)
    awk -v n="$keys" -v l="$label" -v t="$t" 'BEGIN {
        split(t, a, " "); c = a[2] + a[3]
        printf "%-28s wall %6.2f s (%7.0f keys/s)   cpu %6.2f s (%7.0f keys/s)\n", l, a[1], n / a[1], c, n / c
    }'
}
run "inspect - --json (NDJSON)" --json
run "inspect - (text)"

if command -v jwtui >/dev/null; then
    n=1000
    t=$( { TIMEFORMAT='%R %U %S'; time for _ in $(seq "$n"); do jwtui -s -n "$key" >/dev/null; done; } 2>&1 | tail -1)
    awk -v n="$n" -v t="$t" 'BEGIN {
        split(t, a, " "); c = a[2] + a[3]
        printf "%-28s wall %6.2f s (%7.0f keys/s)   cpu %6.2f s (%7.0f keys/s), %d keys, a process each\n", "jwtui -s -n KEY", a[1], n / a[1], c, n / c, n
    }'
else
    echo "jwtui not on PATH: skipped the per-key comparison (cargo install jwt-ui --locked)"
fi
