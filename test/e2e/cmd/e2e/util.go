package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func restConfig(kubeconfig string) (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.Proxy = nil
	cfg.Timeout = 20 * time.Second
	cfg.QPS, cfg.Burst = 50, 100
	return cfg, nil
}

func clientFor(kubeconfig string) (*kubernetes.Clientset, error) {
	cfg, err := restConfig(kubeconfig)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

// run runs a command with a bound, returning combined stdout and stderr
// separately and the exit code (-1 when it could not run).
func run(ctx context.Context, timeout time.Duration, dir string, env []string, name string, args ...string) (stdout, stderr string, code int) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code = 0
	if err != nil {
		code = -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			e.WriteString(err.Error())
		}
	}
	return o.String(), e.String(), code
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "[e2e %s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
}

type tlsCertificate = tls.Certificate
type netIP = net.IP

func parseIP(s string) net.IP { return net.ParseIP(s) }

// events are the kubelet events the runner posted (FailedMount, ...).
func (s *podSim) events() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.mountLog...)
}
