package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// keyPair is a certificate with its private key.
type keyPair struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	CertPEM []byte
	KeyPEM  []byte
}

func newKey(algo string) crypto.Signer {
	if algo == "ecdsa" {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		must(err)
		return k
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	return k
}

func keyPEM(k crypto.Signer) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	must(err)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	must(err)
	return n.Add(n, big.NewInt(1))
}

type certSpec struct {
	CN        string
	Org       []string
	DNS       []string
	IPs       []net.IP
	CA        bool
	Server    bool
	Client    bool
	NotBefore time.Time
	NotAfter  time.Time
	Algo      string
}

// issue makes a certificate signed by parent (self-signed when parent is nil).
func issue(spec certSpec, parent *keyPair) *keyPair {
	key := newKey(spec.Algo)
	nb, na := spec.NotBefore, spec.NotAfter
	if nb.IsZero() {
		nb = time.Now().Add(-time.Hour)
	}
	if na.IsZero() {
		na = time.Now().Add(365 * 24 * time.Hour)
	}
	t := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: spec.CN, Organization: spec.Org},
		NotBefore:             nb,
		NotAfter:              na,
		DNSNames:              spec.DNS,
		IPAddresses:           spec.IPs,
		BasicConstraintsValid: true,
		IsCA:                  spec.CA,
	}
	if spec.CA {
		t.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	} else {
		t.KeyUsage = x509.KeyUsageDigitalSignature
		if _, ok := key.(*rsa.PrivateKey); ok {
			t.KeyUsage |= x509.KeyUsageKeyEncipherment
		}
		if spec.Server {
			t.ExtKeyUsage = append(t.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
		}
		if spec.Client {
			t.ExtKeyUsage = append(t.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
		}
	}
	signer, parentCert := key, t
	if parent != nil {
		signer, parentCert = parent.Key, parent.Cert
	}
	der, err := x509.CreateCertificate(rand.Reader, t, parentCert, key.Public(), signer)
	must(err)
	c, err := x509.ParseCertificate(der)
	must(err)
	return &keyPair{Cert: c, Key: key, CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), KeyPEM: keyPEM(key)}
}

// write stores the pair as NAME.crt and NAME.key (0600) in dir.
func (kp *keyPair) write(dir, name string) (certFile, keyFile string) {
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	must(os.WriteFile(certFile, kp.CertPEM, 0o644))
	must(os.WriteFile(keyFile, kp.KeyPEM, 0o600))
	return
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
