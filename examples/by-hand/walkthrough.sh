#!/usr/bin/env bash
# A consortium by hand, on one machine, over HTTPS: an operator starts a coordinator with a certificate from a
# private consortium CA, invites three hospitals, each enrolls (pinning the coordinator's key) and trains on its own
# CSV export; the operator follows the federation and exports the final model, and one hospital scores new patients
# with it. Every command is one a person would type; `value` only picks a field of a command's --json answer so
# that this script can pass it on (by hand, you copy it from the printed text instead).
# Run it from anywhere inside the checkout, after `npm ci`:   bash examples/by-hand/walkthrough.sh
set -euo pipefail
cd "$(dirname "$0")/../.."                                  # npx finds twinfed and twinfed-site in node_modules/.bin
work=$(realpath -m "${TWINFED_TRIAL_DIR:-trial}"); mkdir -p "$work"; ex=examples/by-hand
value() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(process.argv[1].split(".").reduce((o,k)=>o[k],JSON.parse(s.trim().split("\n").pop()))))' "$1"; }

# Operator: a private CA and a certificate for the coordinator's names (use your own PKI in production).
npx twinfed tls init --out "$work/tls" --host localhost --ip 127.0.0.1
npx twinfed coordinator start --data-dir "$work/consortium" --port 0 --json \
  --tls-cert "$work/tls/server.pem" --tls-key "$work/tls/server-key.pem" > "$work/coordinator.json" 2> "$work/coordinator.log" &
trap 'pkill -f -- "--data-dir $work/consortium" || true' EXIT   # stop it however this script ends (by hand: Ctrl-C)
until [ -s "$work/coordinator.json" ]; do sleep 0.2; done
url=$(value url < "$work/coordinator.json"); fp=$(value fingerprint < "$work/coordinator.json")
op=(--data-dir "$work/consortium" --url "$url" --ca "$work/tls/ca.pem")
echo "coordinator: $url (fingerprint $fp)"

# Operator invites each hospital; each hospital enrolls with the token, the fingerprint and the consortium's CA.
for site in cleveland budapest long-beach; do
  token=$(npx twinfed "${op[@]}" sites invite "$site" --json | value token)
  npx twinfed-site enroll --data-dir "$work/$site" --coordinator "$url" --token "$token" --fingerprint "$fp" --ca "$work/tls/ca.pem"
done

# Operator starts the federation. Each hospital reads its plan in words (checked against the coordinator's signature)
# and approves it for its data: without an approval (or a site policy that approves it), a site refuses to train.
fed=$(npx twinfed "${op[@]}" federations create --plan $ex/plan.json --json | value id)
for site in cleveland budapest long-beach; do
  npx twinfed-site plans show "$fed" --data-dir "$work/$site"
  npx twinfed-site plans approve "$fed" --data-dir "$work/$site" --by "$site data steward" --note "reviewed with the DPO"
done

# Each hospital checks its CSV against the plan and trains until the federation completes.
for site in cleveland budapest long-beach; do
  npx twinfed-site run --data-dir "$work/$site" --federation "$fed" --data $ex/data/$site.csv --mapping $ex/mapping.json > "$work/$site.log" 2>&1 &
done
wait %2 %3 %4

# Operator: how each round's model did on the hospitals' own held-out rows; export the final model as a bundle.
npx twinfed "${op[@]}" federations status "$fed"
latest=$(npx twinfed "${op[@]}" federations status "$fed" --json | value federation.latestVersionId)
echo "final model: $latest"
npx twinfed "${op[@]}" models export "$latest" --out "$work/model"        # a self-describing bundle (docs/model-bundle.md)

# A hospital scores patients with the bundle, once it has checked the coordinator's signature against its pinned key.
npx twinfed-site predict --data-dir "$work/cleveland" --model "$work/model" --data $ex/data/cleveland.csv \
  --mapping $ex/mapping.json --out "$work/cleveland-scores.csv"
head -n 4 "$work/cleveland-scores.csv"
