module secure-metrics-server/go-verify

go 1.26
