// SPDX-License-Identifier: MIT
// A pure Go HTTP server (package net/http, no cgo): traced by socktrace
// run with ptrace.  It serves N requests on 127.0.0.1 (the port is
// printed first), each answered with SIZE bytes, then shuts down once
// its stdin is closed (its clients have all finished by then).
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
)

func main() {
	n, _ := strconv.Atoi(os.Args[1])
	size, _ := strconv.Atoi(os.Args[2])
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("listen:", err)
		os.Exit(1)
	}
	fmt.Println("port", ln.Addr().(*net.TCPAddr).Port)
	done := make(chan struct{})
	var served int32
	body := strings.Repeat("x", size)
	srv := &http.Server{}
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter,
		r *http.Request) {
		// a length, not chunks: curl's counts are then the wire's
		w.Header().Set("Content-Length", strconv.Itoa(size))
		w.Header().Set("Connection", "close")
		fmt.Fprint(w, body)
		if atomic.AddInt32(&served, 1) == int32(n) {
			close(done)
		}
	})
	go srv.Serve(ln)
	<-done
	io.Copy(io.Discard, os.Stdin)
	srv.Shutdown(context.Background())
	fmt.Println("served", n)
}
