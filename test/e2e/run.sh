#!/usr/bin/env bash
# The real-cluster tests (npm run test:e2e): builds kube-apiserver,
# kube-controller-manager and kubectl from k8s.io/kubernetes, embedded etcd and
# metrics-server (each pinned in go.mod / metrics-server/go.mod), then deploys
# what the library synthesizes into them (cmd/e2e). Needs root (unshare --net,
# ip netns), Go, openssl, iproute2, util-linux; see README "Real-cluster tests".
# Prints "N passed, N failed" last; exits non-zero when a scenario fails.
set -uo pipefail
cd "$(dirname "$0")"
fail() { echo "e2e: $*" >&2; echo "0 passed, 1 failed"; exit 1; }

[ "$(id -u)" = 0 ] || fail "needs root: each control plane runs in its own network namespace (unshare --net)"
for t in go ip unshare openssl node; do
  command -v "$t" >/dev/null 2>&1 || fail "$t is not installed"
done

# Go caches of their own, kept outside the repository ($E2E_CACHE, else
# ~/.cache/secure-metrics-server-e2e) and reached through the symbolic links
# .cache/gomod and .cache/gobuild: the build cache is keyed by the source paths,
# so the path Go sees stays the same, while jest and tsc, which do not follow
# symbolic links into directories, never crawl 6 GB of modules (some hold
# *.test.ts files). GOMODCACHE/GOCACHE override. The scratch directory (pods'
# roots, logs, manifests) is $E2E_WORK, else $TMPDIR/secure-metrics-server-e2e.
# Static binaries: metrics-server runs chrooted into its pod's root, as from its image.
cache="${E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/secure-metrics-server-e2e}"
work="${E2E_WORK:-${TMPDIR:-/tmp}/secure-metrics-server-e2e}"
mkdir -p .cache
for d in gomod gobuild; do
  if [ ! -e ".cache/$d" ]; then
    mkdir -p "$cache/$d" && ln -s "$cache/$d" ".cache/$d" || fail "cannot make .cache/$d -> $cache/$d"
  fi
done
export GOMODCACHE="${GOMODCACHE:-$PWD/.cache/gomod}" GOCACHE="${GOCACHE:-$PWD/.cache/gobuild}"
export GOTOOLCHAIN=local CGO_ENABLED=0
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY

start=$(date +%s)
mkdir -p bin
# /version says what was built (as the release build's -X flags do)
kv=$(go list -m -f '{{.Version}}' k8s.io/kubernetes) || fail "go list -m k8s.io/kubernetes failed"
minor=${kv#v1.}; minor=${minor%%.*}
ldflags="-X k8s.io/component-base/version.gitVersion=$kv -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
ldflags="$ldflags -X k8s.io/client-go/pkg/version.gitVersion=$kv -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
go build -ldflags "$ldflags" -o bin/ \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kubectl \
  ./cmd/e2e ./cmd/e2e-etcd || fail "go build of the control plane failed (see above)"
(cd metrics-server && go build -o ../bin/metrics-server sigs.k8s.io/metrics-server/cmd/metrics-server) \
  || fail "go build of metrics-server failed (see above)"
# the GitOps scenarios' tools (cmd/e2e/sealed.go): the sealed-secrets controller and its CRD
# (sealed-secrets/go.mod), sops and age-keygen (pinned in ../gitops/go.mod). A tool that does
# not build leaves its error in bin/NAME.build-error and fails only the scenarios that need it.
rm -f bin/*.build-error
if ! (cd sealed-secrets && go build -o ../bin/sealed-secrets-controller github.com/bitnami-labs/sealed-secrets/cmd/controller \
  && cp "$(go list -m -f '{{.Dir}}' github.com/bitnami-labs/sealed-secrets)/helm/sealed-secrets/crds/bitnami.com_sealedsecrets.yaml" ../bin/sealed-secrets-crd.yaml) \
  2>bin/sealed-secrets-controller.build-error; then
  cat bin/sealed-secrets-controller.build-error >&2; rm -f bin/sealed-secrets-controller
else
  rm -f bin/sealed-secrets-controller.build-error
fi
if ! (cd ../gitops && go build -o ../e2e/bin/ github.com/getsops/sops/v3/cmd/sops filippo.io/age/cmd/age-keygen) 2>bin/sops.build-error; then
  cat bin/sops.build-error >&2; cp bin/sops.build-error bin/age-keygen.build-error; rm -f bin/sops bin/age-keygen
else
  rm -f bin/sops.build-error
fi
# cert-manager v1.21.1's control loops and CA injector (cert-manager/go.mod), and
# the CRDs of that very module (its deploy/crds/), for example-cert-manager
(cd cert-manager && go build -o ../bin/cert-manager-controller ./cmd/controller \
  && go build -o ../bin/cert-manager-cainjector ./cmd/cainjector \
  && d=$(go list -m -f '{{.Dir}}' github.com/cert-manager/cert-manager) \
  && rm -rf ../bin/cert-manager-crds && mkdir ../bin/cert-manager-crds && cp "$d"/deploy/crds/*.yaml ../bin/cert-manager-crds/) \
  || fail "go build of cert-manager failed (see above)"
# the harness's own unit tests (cmd/e2e/*_test.go: how scenarios spread over control planes)
go test ./cmd/e2e >&2 || fail "go test ./cmd/e2e failed (see above)"
echo "e2e: built in $(( $(date +%s) - start )) s" >&2
# the Prometheus Operator's ServiceMonitor CRD (example-monitoring; cmd/e2e/monitoring.go), from
# the module at the version package.json's import:prometheus-operator pins; the exact error if not
pov=$(node -p "(/PROMETHEUS_OPERATOR_VERSION:-(v[0-9][^}]*)\}/.exec(require('../../package.json').scripts['import:prometheus-operator'])||[])[1]||''")
if [ -n "$pov" ] && po=$(GOFLAGS=-mod=mod timeout 300 go mod download -json "github.com/prometheus-operator/prometheus-operator@$pov" 2>&1); then
  export E2E_SERVICEMONITOR_CRD="$(printf '%s' "$po" | node -pe "JSON.parse(require('fs').readFileSync(0, 'utf8')).Dir")/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml"
else
  export E2E_SERVICEMONITOR_CRD_ERROR="go mod download github.com/prometheus-operator/prometheus-operator@${pov:-?}: ${po:-no version found in the import:prometheus-operator script of package.json}"
fi
# E2E_BUILD_ONLY=1: build only (.ci/run builds first: npm test uses this kubectl)
[ "${E2E_BUILD_ONLY:-0}" = 1 ] && exit 0

exec bin/e2e --repo "$PWD/../.." --work "$work" "$@"
