#!/usr/bin/env bash
# The dev platform's ZenML server keys, generated once per cluster (as ZenML's Helm chart does on
# install) instead of committed: Secret handoff-zenml-server with
#   jwt-secret-key          signs the server's login tokens (the same for every pod and restart)
#   secrets-encryption-key  encrypts the secrets the server stores (the S3 credentials)
#
#   bash scripts/dev-secrets.sh             # after `kubectl apply -k k8s/namespace`
#
# Run it again freely: an existing Secret is kept, never regenerated, because the encryption key
# must stay the one the server's database (k8s/platform/volumes, kept across app deletes) was
# written with. The Secret lives outside the overlay, like the API key Secrets, so `kubectl
# delete -k k8s/overlays/dev` and skaffold's cleanup leave it. Start from nothing: delete the
# namespace (volumes and Secret go together).
#
# 32 random bytes each, written to mode-600 files in a private temporary directory and read by
# `kubectl create secret --from-file`: never in a command line.
#
# Settings (environment): NAMESPACE (default handoff).
set -euo pipefail

NAMESPACE=${NAMESPACE:-handoff}
SECRET=handoff-zenml-server
KEYS=(jwt-secret-key secrets-encryption-key)

k() { kubectl -n "$NAMESPACE" "$@"; }

if k get secret "$SECRET" >/dev/null 2>&1; then
    echo "dev-secrets: Secret $SECRET exists; kept (its encryption key is the database's)"
    exit 0
fi

umask 077
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
from_files=()
for key in "${KEYS[@]}"; do
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/$key"
    from_files+=(--from-file="$key=$dir/$key")
done
k create secret generic "$SECRET" "${from_files[@]}" --dry-run=client -o yaml |
    k apply --server-side --force-conflicts --field-manager=dev-secrets -f - >/dev/null
echo "dev-secrets: Secret $SECRET created with new random keys"
