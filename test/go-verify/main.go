// Verifies a serving certificate the way kube-apiserver dials an aggregated
// API server: Go's crypto/tls and crypto/x509, roots = the APIService's
// caBundle, ServerName = <service>.<namespace>.svc. Prints "ok" or the error.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
)

func main() {
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
