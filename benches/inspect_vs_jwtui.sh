#!/usr/bin/env bash
# Issue 7: `storedesk inspect KEY` against jwt-ui's non-interactive mode
# (`jwtui -s -n KEY`) decoding the same real-size key, as whole processes.
# Needs hyperfine and jwtui on PATH (`cargo install jwt-ui --locked`).
# Usage: benches/inspect_vs_jwtui.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-1000}"
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
echo "key: ${#key} bytes"

data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
storedesk=(-n "storedesk inspect" "target/release/storedesk --data-dir $data inspect $key")
jwtui=(-n "jwtui -s -n" "jwtui -s -n $key")
# Twice, in both orders: hyperfine runs one command's batch after the other,
# and on a shared machine the load drifts between batches.
hyperfine -N --warmup 30 --runs "$runs" "${storedesk[@]}" "${jwtui[@]}"
hyperfine -N --warmup 30 --runs "$runs" "${jwtui[@]}" "${storedesk[@]}"
