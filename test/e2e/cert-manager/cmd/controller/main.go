// Command controller runs cert-manager's own control loops (the controllers
// of github.com/cert-manager/cert-manager v1.21.1, pkg/controller/...) against
// one kube-apiserver, for the real-cluster tests.
//
// Upstream's binary main (cmd/controller, module
// github.com/cert-manager/cert-manager/controller-binary) is not on the Go
// module proxy (proxy.golang.org answers 404 for
// github.com/cert-manager/cert-manager/cmd/controller), and the main module's
// zip holds no cmd/ directory. This main does what that one does for the
// controllers it runs: it builds cert-manager's controller ContextFactory
// (pkg/controller.NewContextFactory), constructs each named controller from
// cert-manager's own registry (pkg/controller.Known), starts the shared
// informers and runs every controller. What it leaves out: leader election
// (one replica), the metrics and health listeners, the ACME, Vault and Venafi
// issuers and the ingress/gateway shims (this harness issues from CA and
// SelfSigned issuers only), and upstream's configuration file and flag set.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/klog/v2"

	controllerpkg "github.com/cert-manager/cert-manager/pkg/controller"
	logf "github.com/cert-manager/cert-manager/pkg/logs"

	// the control loops this binary runs (each registers itself in init)
	crapprover "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	crca "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	crselfsigned "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	certmetrics "github.com/cert-manager/cert-manager/pkg/controller/certificates/metrics"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	"github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	"github.com/cert-manager/cert-manager/pkg/controller/issuers"

	// the issuer types the Issuer and ClusterIssuer controllers set up
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
)

// the controllers run, in upstream's DefaultEnabledControllers order
// (internal/apis/config/controller/v1alpha1/defaults.go), less ACME, Vault,
// Venafi and ingress-shim
var controllers = []string{
	issuers.ControllerName,
	clusterissuers.ControllerName,
	certmetrics.ControllerName,
	crapprover.ControllerName,
	crca.CRControllerName,
	crselfsigned.CRControllerName,
	trigger.ControllerName,
	issuing.ControllerName,
	keymanager.ControllerName,
	requestmanager.ControllerName,
	readiness.ControllerName,
	revisionmanager.ControllerName,
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the kube-apiserver (required)")
	clusterNS := flag.String("cluster-resource-namespace", "cert-manager", "namespace of the Secrets that ClusterIssuers reference (upstream's default: kube-system in the chart's values, cert-manager's own namespace when installed)")
	workers := flag.Int("concurrent-workers", 5, "workers per controller (upstream's default 5)")
	klog.InitFlags(nil)
	flag.Parse()
	if *kubeconfig == "" {
		fmt.Fprintln(os.Stderr, "controller: --kubeconfig is required")
		os.Exit(2)
	}
	logf.InitLogs()
	defer logf.FlushLogs()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := logf.Log.WithName("controller")
	ctx = logf.NewContext(ctx, log)

	// upstream's defaults (internal/apis/config/controller/v1alpha1/defaults.go)
	opts := controllerpkg.ContextOptions{
		Kubeconfig:         *kubeconfig,
		KubernetesAPIQPS:   20,
		KubernetesAPIBurst: 50,
		IssuerOptions: controllerpkg.IssuerOptions{
			ClusterResourceNamespace:        *clusterNS,
			ClusterIssuerAmbientCredentials: true,
		},
		CertificateOptions: controllerpkg.CertificateOptions{
			CopiedAnnotationPrefixes:                 []string{"*", "-kubectl.kubernetes.io/", "-fluxcd.io/", "-argocd.argoproj.io/"},
			CertificateRequestMinimumBackoffDuration: time.Hour,
			CertificateRequestMaximumBackoffDuration: 32 * time.Hour,
		},
		SchedulerOptions: controllerpkg.SchedulerOptions{MaxConcurrentChallenges: 60},
	}
	factory, err := controllerpkg.NewContextFactory(ctx, opts)
	if err != nil {
		log.Error(err, "building the controller context")
		os.Exit(1)
	}
	known := controllerpkg.Known()
	run := map[string]controllerpkg.Interface{}
	for _, name := range controllers {
		fn, ok := known[name]
		if !ok {
			names := make([]string, 0, len(known))
			for n := range known {
				names = append(names, n)
			}
			sort.Strings(names)
			log.Error(nil, "controller not registered", "name", name, "known", strings.Join(names, ","))
			os.Exit(1)
		}
		iface, err := fn(factory)
		if err != nil {
			log.Error(err, "constructing controller", "name", name)
			os.Exit(1)
		}
		run[name] = iface
	}
	// the informers the constructors asked for, shared by every controller
	shared, err := factory.Build()
	if err != nil {
		log.Error(err, "building the shared context")
		os.Exit(1)
	}
	shared.KubeSharedInformerFactory.Start(ctx.Done())
	shared.SharedInformerFactory.Start(ctx.Done())
	shared.HTTP01ResourceMetadataInformersFactory.Start(ctx.Done())

	var wg sync.WaitGroup
	for name, iface := range run {
		wg.Add(1)
		go func() {
			defer wg.Done()
			log.Info("starting controller", "name", name)
			if err := iface.Run(*workers, ctx); err != nil {
				log.Error(err, "controller stopped", "name", name)
				stop()
			}
		}()
	}
	<-ctx.Done()
	wg.Wait()
}
