// Verifies a serving certificate the way kube-apiserver dials an aggregated
// API server: Go's crypto/tls and crypto/x509, roots = the APIService's
// caBundle, ServerName = <service>.<namespace>.svc. Prints "ok" or the error.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"time"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "-version" {
		version()
		return
	}
	if len(os.Args) == 3 && os.Args[1] == "-batch" {
		batch(os.Args[2])
		return
	}
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: go-verify CERT KEY CABUNDLE SERVERNAME")
		os.Exit(2)
	}
	pair, err := tls.LoadX509KeyPair(os.Args[1], os.Args[2])
	if err != nil {
		fmt.Println("keypair:", err)
		return
	}
	bundle, err := os.ReadFile(os.Args[3])
	if err != nil {
		fmt.Println("bundle:", err)
		return
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(bundle) {
		fmt.Println("bundle: no certificate")
		return
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}})
	if err != nil {
		fmt.Println("listen:", err)
		return
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				_ = c.(*tls.Conn).Handshake()
				_, _ = io.WriteString(c, "hello")
				c.Close()
			}(c)
		}
	}()
	conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: roots, ServerName: os.Args[4], MinVersion: tls.VersionTLS12})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	fmt.Println("ok")
}

// One case of a batch: PEM texts, not files.
type batchCase struct {
	ID         string `json:"id"`
	Cert       string `json:"cert"`
	Key        string `json:"key"`
	Bundle     string `json:"bundle"`
	ServerName string `json:"serverName"`
}

type batchResult struct {
	ID string `json:"id"`
	// "ok" or the error of a TLS handshake with the certificate and key,
	// the client trusting only the bundle (as kube-apiserver dials)
	Handshake string `json:"handshake"`
	// "ok" or why the bundle alone is unusable as kube-apiserver's roots
	Bundle string `json:"bundle"`
}

// batch verifies every case of a JSON manifest in this one process and
// prints a JSON array of results: the handshake runs in memory (net.Pipe).
func batch(manifest string) {
	data, err := os.ReadFile(manifest)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var cases []batchCase
	if err := json.Unmarshal(data, &cases); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	results := make([]batchResult, 0, len(cases))
	for _, c := range cases {
		r := batchResult{ID: c.ID, Handshake: "skipped", Bundle: bundleVerdict([]byte(c.Bundle))}
		if c.Cert != "" {
			r.Handshake = handshake(c)
		}
		results = append(results, r)
	}
	out, _ := json.Marshal(results)
	fmt.Println(string(out))
}

func handshake(c batchCase) string {
	pair, err := tls.X509KeyPair([]byte(c.Cert), []byte(c.Key))
	if err != nil {
		return "keypair: " + err.Error()
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM([]byte(c.Bundle)) {
		return "bundle: no certificate"
	}
	sc, cc := net.Pipe()
	defer sc.Close()
	defer cc.Close()
	deadline := time.Now().Add(5 * time.Second)
	_ = sc.SetDeadline(deadline)
	_ = cc.SetDeadline(deadline)
	server := tls.Server(sc, &tls.Config{Certificates: []tls.Certificate{pair}})
	done := make(chan error, 1)
	go func() { done <- server.Handshake() }()
	client := tls.Client(cc, &tls.Config{RootCAs: roots, ServerName: c.ServerName, MinVersion: tls.VersionTLS12})
	err = client.Handshake()
	if err != nil {
		sc.Close()
		<-done
		return err.Error()
	}
	if err := <-done; err != nil {
		return "server: " + err.Error()
	}
	return "ok"
}

// bundleVerdict: the bundle as kube-apiserver's roots. Every CERTIFICATE
// block must be one Go's CertPool takes (no headers, parses) and one Go
// would accept as a root for a serving certificate (Certificate.isValid and
// CheckSignatureFrom's rules: no unhandled critical extension, valid now, a
// CA when v3, keyCertSign when keyUsage is present, a known key algorithm,
// extKeyUsage absent or allowing serverAuth), and at least one of them valid now.
func bundleVerdict(bundle []byte) string {
	n, current, timeProblem := 0, 0, ""
	now := time.Now()
	for len(bundle) > 0 {
		var block *pem.Block
		block, bundle = pem.Decode(bundle)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		n++
		if len(block.Headers) != 0 {
			return fmt.Sprintf("certificate #%d: has PEM headers (skipped by CertPool)", n)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return fmt.Sprintf("certificate #%d: %v", n, err)
		}
		if err := rootProblem(cert, now); err != nil {
			return fmt.Sprintf("certificate #%d: %v", n, err)
		}
		// a root not valid now is skipped by chain building: the bundle works while another is valid
		if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
			if timeProblem == "" {
				timeProblem = fmt.Sprintf("certificate #%d: expired or not yet valid", n)
			}
		} else {
			current++
		}
	}
	if n == 0 {
		return "no certificate"
	}
	if current == 0 {
		return timeProblem
	}
	return "ok"
}

func rootProblem(c *x509.Certificate, now time.Time) error {
	if len(c.UnhandledCriticalExtensions) > 0 {
		return x509.UnhandledCriticalExtension{}
	}
	if c.Version == 3 && !c.BasicConstraintsValid || c.BasicConstraintsValid && !c.IsCA {
		return errors.New("not a CA")
	}
	if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageCertSign == 0 {
		return errors.New("keyUsage lacks certSign")
	}
	if c.PublicKeyAlgorithm == x509.UnknownPublicKeyAlgorithm || c.PublicKeyAlgorithm == x509.DSA {
		return errors.New("unsupported public key algorithm")
	}
	if len(c.ExtKeyUsage) > 0 || len(c.UnknownExtKeyUsage) > 0 {
		for _, u := range c.ExtKeyUsage {
			if u == x509.ExtKeyUsageServerAuth || u == x509.ExtKeyUsageAny {
				return nil
			}
		}
		return errors.New("extKeyUsage lacks serverAuth")
	}
	return nil
}

// version prints the Go this binary was built with and the GODEBUG defaults
// its go.mod's `go` line gives it (empty with a current go line): an older
// line would bring back old behaviour (negative serials, RSA under 1024 bits).
func version() {
	godebug := ""
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "DefaultGODEBUG" {
				godebug = s.Value
			}
		}
		out, _ := json.Marshal(map[string]string{"go": runtime.Version(), "goLine": info.GoVersion, "defaultGodebug": godebug})
		fmt.Println(string(out))
		return
	}
	out, _ := json.Marshal(map[string]string{"go": runtime.Version(), "defaultGodebug": godebug})
	fmt.Println(string(out))
}
