// SPDX-License-Identifier: MIT
// Many goroutines connecting at once (pure Go, no cgo): traced by
// socktrace run with ptrace.  N goroutines each dial the program's own
// listener on 127.0.0.1, send LEN bytes, read them back from the
// server's goroutine, and close; all N wait for each other first, so
// the connections are open at the same time.  Prints what it counted:
// "dialed N", "accepted N", "bytes B".
package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
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
	var accepted, bytes int64
	var served sync.WaitGroup
	served.Add(n)
	go func() {
		for i := 0; i < n; i++ {
			c, err := ln.Accept()
			if err != nil {
				fmt.Println("accept:", err)
				os.Exit(1)
			}
			atomic.AddInt64(&accepted, 1)
			go func(c net.Conn) {
				defer served.Done()
				k, _ := io.Copy(c, c) // echo until the client closes
				atomic.AddInt64(&bytes, k)
				c.Close()
			}(c)
		}
	}()
	var dialed int64
	var open, done sync.WaitGroup
	open.Add(n)
	done.Add(n)
	msg := make([]byte, size)
	for i := 0; i < n; i++ {
		go func() {
			defer done.Done()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				fmt.Println("dial:", err)
				os.Exit(1)
			}
			atomic.AddInt64(&dialed, 1)
			open.Done()
			open.Wait() // every connection is open now
			buf := make([]byte, size)
			if _, err := c.Write(msg); err != nil {
				fmt.Println("write:", err)
				os.Exit(1)
			}
			if _, err := io.ReadFull(c, buf); err != nil {
				fmt.Println("read:", err)
				os.Exit(1)
			}
			c.Close()
		}()
	}
	done.Wait()
	served.Wait()
	ln.Close()
	fmt.Println("dialed", dialed)
	fmt.Println("accepted", accepted)
	fmt.Println("bytes", bytes)
}
