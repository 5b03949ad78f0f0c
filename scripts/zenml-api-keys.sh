#!/usr/bin/env bash
# Give the handoff workloads their ZenML API keys: one service account on the in-cluster ZenML
# server and one Secret per workload class, so that the endpoint (exposed to traffic) never holds
# the batch jobs' key and either can be rotated or revoked alone:
#
#   service account   Secret                 read by
#   handoff-jobs      handoff-zenml          the batch jobs and the stack bootstrap
#   handoff-serving   handoff-zenml-serving  the serving Deployment
#
#   bash scripts/zenml-api-keys.sh          # after `kubectl apply -k k8s/overlays/dev`
#
# Run it again freely: a Secret whose account exists is kept as it is. A missing Secret gets a
# new key (the account's key is rotated when the account exists: the server's database outlives
# the app, so it usually does); a Secret whose account is gone (a new database) is replaced. To
# replace a rejected key, delete its Secret and run this again.
#
# The key never appears in a command line (ps, shell history, audit logs): the server writes it
# to a file in its pod (umask 077), this script copies it into a mode-600 file in a private
# temporary directory, and `kubectl create secret --from-file` reads it from there.
#
# Settings (environment): NAMESPACE (default handoff), SERVER (default deploy/zenml-server).
set -euo pipefail

NAMESPACE=${NAMESPACE:-handoff}
SERVER=${SERVER:-deploy/zenml-server}
ACCOUNTS=(handoff-jobs:handoff-zenml handoff-serving:handoff-zenml-serving)

k() { kubectl -n "$NAMESPACE" "$@"; }
on_server() { k exec "$SERVER" -- sh -euc "$@"; }

umask 077
keys=$(mktemp -d)
trap 'rm -rf "$keys"' EXIT

# Inside the server pod: print a new key of service account $1 (creating the account if it does
# not exist yet), through a file only its user can read, removed at once.
NEW_KEY='umask 077; file=/tmp/$1.key
if zenml service-account describe "$1" >/dev/null 2>&1; then
    zenml service-account api-key "$1" rotate default --output-file "$file" >/dev/null
else
    zenml service-account create "$1" --output-file "$file" >/dev/null
fi
cat "$file"; rm -f "$file"'

for pair in "${ACCOUNTS[@]}"; do
    account=${pair%%:*} secret=${pair#*:}
    if on_server 'zenml service-account describe "$1" >/dev/null 2>&1' sh "$account" &&
        k get secret "$secret" >/dev/null 2>&1; then
        echo "zenml-api-keys: Secret $secret holds a key of service account $account; kept"
        continue
    fi
    on_server "$NEW_KEY" sh "$account" >"$keys/api-key"
    # Create or replace, from the file; server-side apply keeps no copy of the value in an
    # annotation (client-side apply would, in last-applied-configuration).
    k create secret generic "$secret" --from-file=api-key="$keys/api-key" \
        --dry-run=client -o yaml |
        k apply --server-side --force-conflicts --field-manager=zenml-api-keys -f - >/dev/null
    rm -f "$keys/api-key"
    echo "zenml-api-keys: Secret $secret now holds a new key of service account $account"
    # A running endpoint read the old key at start: restart it onto the new one.
    if [[ $secret == handoff-zenml-serving ]] && k get deploy/handoff-serving >/dev/null 2>&1; then
        k rollout restart deploy/handoff-serving
    fi
done
